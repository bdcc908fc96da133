// Frame-rate benchmark of the playground's message animation in headless Chromium:
// opens dist/#bench (30 nodes, 300 messages in flight, moved by requestAnimationFrame),
// waits for its 3 s measurement and prints the frames per second.
//
// Run after `cargo xtask web`: node tests/e2e/bench.mjs (env: WARREN_DIST, CHROMIUM).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(process.env.WARREN_DIST ?? path.join(here, '../../dist'));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

const server = http.createServer((req, res) => {
  const rel = new URL(req.url, 'http://localhost').pathname;
  const file = path.join(dist, path.normalize(rel === '/' ? '/index.html' : rel));
  if (!file.startsWith(dist) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`http://127.0.0.1:${server.address().port}/#bench`);
  const fps = page.locator('output[aria-label="fps"]');
  await page.waitForFunction(() => /^[0-9]/.test(document.querySelector('output')?.textContent ?? ''), null, { timeout: 20000 });
  const dots = await page.locator('g.flights > *').count();
  const value = (await fps.first().textContent()).trim();
  console.log(`playground #bench: ${dots} messages in flight, 30 nodes: ${value} fps (headless Chromium, 3 s)`);
} finally {
  await browser.close();
  server.close();
}
