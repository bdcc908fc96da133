// End-to-end test of the playground as a user sees it: dist/ (from `cargo xtask web`)
// served over HTTP, driven in Chromium through accessible names only, so the test also
// checks that the page can be used with a screen reader's vocabulary.
//
// Run with tests/e2e/run.sh. Env: WARREN_DIST (default ../../dist), CHROMIUM
// (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(process.env.WARREN_DIST ?? path.join(here, '../../dist'));
const artifacts = path.join(here, 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** A static file server for dist/ on a free port (wasm needs application/wasm). */
function serve(root) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server, browser, context, page, base;
const errors = [];

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, 'index.html')), `${dist}/index.html missing: run cargo xtask web`);
  server = await serve(dist);
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(base);
  await page.getByRole('group', { name: 'queue tasks' }).waitFor({ timeout: 20000 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const node = (name) => page.getByRole('group', { name, exact: true });
const button = (name) => page.getByRole('button', { name, exact: true });
const figures = async (name) => (await node(name).locator('text.figures').first().textContent()).trim();

test('the example and the layout are there, by accessible name', async () => {
  for (const name of ['producer P1', 'exchange (default)', 'queue tasks', 'consumer C1', 'consumer C2']) {
    assert.equal(await node(name).count(), 1, name);
  }
  for (const name of ['Add producer', 'Add exchange', 'Add queue', 'Add consumer', 'Step', 'Back', 'Play', 'Reset']) {
    assert.equal(await button(name).count(), 1, name);
  }
  assert.equal(await page.getByRole('slider', { name: 'Speed' }).count(), 1);
  assert.ok(await page.getByRole('table').textContent().then((t) => t.includes('messages_ready')));
});

test('Step changes the queue figures and Back restores them', async () => {
  const seen = [await figures('queue tasks')];
  let changedAt = -1;
  for (let i = 0; i < 40 && changedAt < 0; i++) {
    await button('Step').click();
    seen.push(await figures('queue tasks'));
    if (i > 0 && seen.at(-1) !== seen.at(-2) && /ready [1-9]|unacked [1-9]/.test(seen.at(-1))) changedAt = i;
  }
  assert.ok(changedAt >= 0, `queue figures never showed a message: ${seen.join(' | ')}`);
  const log = page.getByRole('region', { name: 'Event log' }).locator('li');
  assert.ok((await log.count()) > 3, 'the event log shows trace lines');
  const now = await figures('queue tasks');
  const previous = seen.at(-2);
  await button('Back').click();
  assert.equal(await figures('queue tasks'), previous);
  await button('Step').click();
  assert.equal(await figures('queue tasks'), now);
  await page.screenshot({ path: path.join(artifacts, 'playground.png'), fullPage: true });
});

test('Play toggles to Pause and runs on its own', async () => {
  await button('Reset').click();
  await button('Play').click();
  await button('Pause').waitFor();
  await page.waitForFunction(() => /t = [1-9]/.test(document.querySelector('.clock')?.textContent ?? ''));
  await button('Pause').click();
  await button('Play').waitFor();
});

test('editing: add, connect by dragging, refuse bad input', async () => {
  await button('Add exchange').click();
  await node('exchange x1').waitFor();
  const port = node('exchange x1').locator('circle.port');
  const from = await port.boundingBox();
  const to = await node('queue tasks').locator('rect.box').boundingBox();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + 20, to.y + 20, { steps: 5 });
  await page.mouse.up();
  await page.getByRole('group', { name: 'binding x1 → tasks' }).waitFor();

  await node('queue tasks').click();
  const maxLength = page.getByRole('textbox', { name: 'Max length' });
  await maxLength.fill('ten');
  await maxLength.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'not a whole number' }).waitFor();

  await button('Undo').click();
  assert.equal(await page.getByRole('group', { name: 'binding x1 → tasks' }).count(), 0);
  await button('Redo').click();
  assert.equal(await page.getByRole('group', { name: 'binding x1 → tasks' }).count(), 1);
});

test('export, then import an edited copy; a broken file shows where', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), button('Export').click()]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.name, 'work-queue');
  assert.ok(exported.topology.queues.some((q) => q.name === 'tasks'));
  assert.ok(exported.layout, 'positions are saved in layout');

  exported.name = 'imported';
  exported.topology.queues.push({ name: 'extra' });
  const file = path.join(artifacts, 'imported.json');
  fs.writeFileSync(file, JSON.stringify(exported, null, 2));
  await page.getByLabel('Import').setInputFiles(file);
  await node('queue extra').waitFor();

  const broken = path.join(artifacts, 'broken.json');
  fs.writeFileSync(broken, '{"version": 1,\n "name": "x",\n "clients": [{"nome": "a"}]}');
  await page.getByLabel('Import').setInputFiles(broken);
  const status = page.getByRole('status');
  await status.filter({ hasText: 'line 3' }).waitFor();
  assert.match(await status.textContent(), /clients\[0\]/);
});

test('Share puts the scenario in the URL and the link opens it', async () => {
  await button('Share').click();
  const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
  assert.match(link, /#z=[A-Za-z0-9_-]+$/);
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(link);
  await other.getByRole('group', { name: 'queue extra', exact: true }).waitFor({ timeout: 20000 });
  await fresh.close();
});

test('no errors in the console', () => {
  assert.deepEqual(errors, []);
});
