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
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
/** The warren binary for `scenario check` and `serve`: $WARREN_BIN, else the debug
 * build (run.sh builds it), else the release build. */
const warrenBin = [process.env.WARREN_BIN, path.join(root, 'target/debug/warren'),
  path.join(root, 'target/release/warren')].find((p) => p && fs.existsSync(p));
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

// Time to interactive is a benchmark figure (goal 1 s, recorded in BENCHMARKS.md):
// printed and saved here, not asserted, since timings on a shared machine vary.
test('time to interactive: the palette becomes usable and the time is recorded', async () => {
  const fresh = await context.newPage();
  await fresh.goto(base);
  const add = fresh.getByRole('button', { name: 'Add producer', exact: true });
  await add.waitFor();
  assert.ok(await add.isEnabled());
  const tti = await fresh.evaluate(() => window.warrenReady);
  await fresh.close();
  assert.equal(typeof tti, 'number', 'the app records window.warrenReady when it mounts');
  console.log(`time to interactive: ${tti.toFixed(0)} ms (navigation start to the app's first render)`);
  fs.writeFileSync(path.join(artifacts, 'tti.txt'), `${tti.toFixed(0)}\n`);
  if (tti > 1000) console.log(`note: above the 1 s goal on this run`);
});

test('the example and the layout are there, by accessible name', async () => {
  for (const name of ['producer P1', 'exchange (default)', 'queue tasks', 'consumer C1', 'consumer C2']) {
    assert.equal(await node(name).count(), 1, name);
  }
  for (const name of ['Add producer', 'Add exchange', 'Add queue', 'Add consumer', 'Step', 'Back', 'Play', 'Reset']) {
    assert.equal(await button(name).count(), 1, name);
  }
  assert.equal(await page.getByRole('slider', { name: 'Speed' }).count(), 1);
  assert.ok(await page.getByRole('table').first().textContent().then((t) => t.includes('messages_ready')));
});

test('Step changes the queue figures and Back restores them', async () => {
  const seen = [await figures('queue tasks')];
  let changedAt = -1;
  for (let i = 0; i < 200 && changedAt < 0; i++) {
    await button('Step').click();
    seen.push(await figures('queue tasks'));
    if (i > 0 && seen.at(-1) !== seen.at(-2) && /ready [1-9]|unacked [1-9]/.test(seen.at(-1))) changedAt = i;
  }
  assert.ok(changedAt >= 0, `queue figures never showed a message: ${seen.join(' | ')}`);
  const log = page.getByRole('region', { name: 'Event log' }).locator('li');
  assert.ok((await log.count()) > 3, 'the event log shows trace lines');
  const lines = await log.count();
  const fresh = page.getByRole('region', { name: 'Event log' }).locator('li.new');
  assert.equal(await fresh.count(), 1, 'one highlighted line: the one at the cursor');
  const now = await figures('queue tasks');
  const previous = seen.at(-2);
  await button('Back').click();
  assert.equal(await log.count(), lines - 1, 'Back hides one line');
  assert.equal(await figures('queue tasks'), previous);
  await button('Step').click();
  assert.equal(await log.count(), lines, 'Step shows one line');
  assert.equal(await figures('queue tasks'), now);
  for (let i = 0; i < 5; i++) {
    await button('Step').click();
    assert.equal(await log.count(), lines + i + 1, 'each Step shows exactly one more line');
    assert.equal(await fresh.count(), 1);
  }
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

test('Export as pika script downloads a Python program that replays the scenario', async () => {
  const [download] = await Promise.all([
    page.waitForEvent('download'), button('Export as pika script').click(),
  ]);
  assert.match(download.suggestedFilename(), /\.py$/);
  const file = path.join(artifacts, download.suggestedFilename());
  fs.copyFileSync(await download.path(), file);
  const script = fs.readFileSync(file, 'utf8');
  assert.match(script, /import pika/);
  assert.match(script, /SCRIPT = /);
  // Valid Python, with the runtime the page fetched inlined.
  const parsed = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file],
    { encoding: 'utf8' });
  assert.equal(parsed.status, 0, parsed.stderr);
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

const logText = async () => (await page.getByRole('region', { name: 'Event log' }).textContent()) ?? '';
const stepUntil = async (check, max = 300) => {
  for (let i = 0; i < max; i++) {
    if (await check()) return true;
    await button('Step').click();
  }
  return check();
};

test('messages fly along the edges as dots, with a legend', async () => {
  await button('Reset').click();
  const moving = () => page.evaluate(() => [...document.querySelectorAll('g.flights > *')]
    .some((d) => d.getAttribute('transform') !== 'translate(-100,-100)'));
  let seen = false;
  for (let i = 0; i < 200 && !seen; i++) {
    await button('Step').click();
    seen = await moving();
  }
  assert.ok(seen, 'a dot was in flight after some step');
  const legend = await page.getByRole('list', { name: 'Legend' }).textContent();
  for (const word of ['message', 'redelivered', 'dead-lettered']) assert.ok(legend.includes(word), word);
});

test('the timeline scrubs over the snapshots', async () => {
  await button('Reset').click();
  assert.ok(await stepUntil(async () => (await page.locator('.clock').textContent()).includes('· 10 steps')));
  const timeline = page.getByRole('slider', { name: 'Timeline' });
  assert.equal(await timeline.getAttribute('max'), '10');
  const clock = page.locator('.clock');
  const at10 = await clock.textContent();
  await timeline.fill('2');
  await page.waitForFunction(() => document.querySelector('.clock')?.textContent.includes('· 2 steps'));
  await timeline.fill('10');
  await page.waitForFunction((t) => document.querySelector('.clock')?.textContent === t, at10);
});

test('a ready message and a delivery open the message details', async () => {
  await button('Reset').click();
  const first = page.getByRole('button', { name: 'message 1 in tasks', exact: true });
  assert.ok(await stepUntil(async () => (await first.count()) > 0), 'a ready message appears in tasks');
  await first.click();
  const details = page.getByRole('region', { name: 'Message details' });
  await details.waitFor();
  const text = await details.textContent();
  assert.match(text, /redelivered/);
  assert.match(text, /routing_key/);
  await page.getByRole('region', { name: 'Event log' }).getByRole('button').filter({ hasText: 'received' }).first().click();
  await details.filter({ hasText: 'Delivery to' }).waitFor();
  await button('Close message details').click();
  assert.equal(await details.count(), 0);
});

test('Kill connection requeues unacked messages; Restart broker is recorded in the script', async () => {
  await button('Reset').click();
  assert.ok(await stepUntil(async () => /unacked [1-9]/.test(await figures('consumer C1'))), 'C1 holds a message');
  assert.equal(await button('Kill connection').isDisabled(), true, 'needs a selected client');
  await node('consumer C1').click();
  await button('Kill connection').click();
  await page.getByRole('status').filter({ hasText: "C1's connection was killed" }).waitFor();
  assert.match(await logText(), /the client crashed/);
  assert.ok(await stepUntil(async () => /redelivered/.test(await logText())), 'the message is redelivered to C2');
  await button('Restart broker').click();
  await page.getByRole('status').filter({ hasText: 'The broker restarted' }).waitFor();
  assert.match(await logText(), /broker restarted/);
  const [download] = await Promise.all([page.waitForEvent('download'), button('Export').click()]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.ok(exported.script.some((s) => s.do === 'crash' && s.client === 'C1'));
  assert.ok(exported.script.some((s) => s.do === 'restart'));
});

test('Export as test: expectations from the run that warren scenario check passes', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), button('Export as test').click()]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  const exported = JSON.parse(text);
  assert.match(download.suggestedFilename(), /\.test\.json$/);
  const kinds = exported.expect.map((e) => e.expect);
  assert.ok(kinds.includes('received'), kinds.join());
  assert.ok(exported.expect.some((e) => e.expect === 'queue' && e.queue === 'tasks'
    && 'ready' in e && 'consumers' in e), 'final queue figures');
  const file = path.join(artifacts, 'exported-test.json');
  fs.writeFileSync(file, text);
  assert.ok(warrenBin, 'no warren binary: cargo build -p warren-server');
  const check = spawnSync(warrenBin, ['scenario', 'check', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, `warren scenario check failed:\n${check.stdout}\n${check.stderr}`);
  await page.getByRole('status').filter({ hasText: 'as a test with' }).waitFor();
});

test('Import reads a RabbitMQ definitions.json into the topology', async () => {
  const defs = {
    rabbit_version: '3.12.0',
    users: [{ name: 'guest', password_hash: 'x', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] }],
    vhosts: [{ name: '/' }],
    queues: [{ name: 'orders', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-queue-type': 'classic' } }],
    exchanges: [{ name: 'shop', vhost: '/', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} }],
    bindings: [{ source: 'shop', vhost: '/', destination: 'orders', destination_type: 'queue', routing_key: 'order.*', arguments: {} }],
  };
  const file = path.join(artifacts, 'definitions.json');
  fs.writeFileSync(file, JSON.stringify(defs));
  await page.getByLabel('Import').setInputFiles(file);
  await node('exchange shop').waitFor();
  await node('queue orders').waitFor();
  await page.getByRole('group', { name: 'binding shop → orders' }).waitFor();
  const status = await page.getByRole('status').first().textContent();
  assert.match(status, /RabbitMQ definitions/);
  assert.match(status, /1 exchanges \(shop\), 1 queues \(orders\), 1 bindings/);
});

test('an exclusive queue is declared by its consumer; without one it is refused', async () => {
  const scenario = {
    version: 1, name: 'exclusive',
    topology: { exchanges: [{ name: 'news', type: 'fanout' }], queues: [{ name: 'mine' }, { name: 'lonely' }],
      bindings: [{ source: 'news', destination: 'mine' }] },
    clients: [{ name: 'P1' }, { name: 'C1' }],
    script: [
      { at: 0, client: 'C1', do: 'consume', queue: 'mine', auto_ack: true },
      { at: 100, client: 'P1', do: 'publish', exchange: 'news', body: 'hello' },
    ],
  };
  const file = path.join(artifacts, 'exclusive.json');
  fs.writeFileSync(file, JSON.stringify(scenario));
  await page.getByLabel('Import').setInputFiles(file);
  await node('queue lonely').waitFor();
  const exclusive = page.getByRole('checkbox', { name: 'Exclusive', exact: true });

  await node('queue lonely').click();
  await exclusive.click();
  await page.getByRole('alert').filter({ hasText: 'an exclusive queue needs its consumer' }).waitFor();

  await node('queue mine').click();
  await exclusive.click();
  await page.waitForFunction(() => document.querySelector('input[aria-label=Exclusive]')?.checked);
  assert.equal(await page.getByRole('alert').filter({ hasText: 'exclusive' }).count(), 0);
  assert.equal(await node('queue mine').count(), 1, 'still drawn');
  const [download] = await Promise.all([page.waitForEvent('download'), button('Export').click()]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.ok(!exported.topology.queues.some((q) => q.name === 'mine'), 'not declared by the setup connection');
  const at = exported.script.findIndex((s) => s.do === 'queue_declare' && s.queue === 'mine' && s.exclusive === true);
  assert.ok(at >= 0 && exported.script[at].client === 'C1' && exported.script[at].at === 0, JSON.stringify(exported.script));
  assert.ok(at < exported.script.findIndex((s) => s.do === 'consume'), 'declared before the consume');
  const received = page.getByRole('region', { name: 'Event log' }).getByRole('button').filter({ hasText: 'received' });
  assert.ok(await stepUntil(async () => (await received.count()) > 0), `C1 gets the message: ${await logText()}`);
});

/** Distinct TCP ports nobody listens on now, outside the ephemeral range (see
 * tests/free-ports.py for why not port 0). */
const freePorts = (n) => {
  const out = spawnSync('python3', [path.join(root, 'tests/free-ports.py'), String(n)], { encoding: 'utf8' });
  assert.equal(out.status, 0, `free-ports.py: ${out.stderr}`);
  return out.stdout.trim().split('\n').map(Number);
};

test('Live mode draws a running warren server and animates its events', async () => {
  assert.ok(warrenBin, 'no warren binary: cargo build -p warren-server');
  const [amqp, http_, mcq] = freePorts(3);
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-e2e-'));
  const server = spawn(warrenBin, ['serve', '--web-dir', dist, '--amqp-port', String(amqp),
    '--http-port', String(http_), '--memcacheq-port', String(mcq), '--data-dir', data],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let serverLog = '';
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  const api = `http://127.0.0.1:${http_}/api`;
  const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${api}/warren`)).ok) break; } catch { /* not up yet */ }
      assert.ok(i < 100, `warren serve did not start:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const live = await context.newPage();
    live.on('pageerror', (e) => errors.push(String(e)));
    await live.goto(`http://127.0.0.1:${http_}/`);
    const saved = await live.getByRole('group', { name: /^queue / }).first().getAttribute('aria-label');
    await live.getByRole('button', { name: 'Live', exact: true }).click();
    await live.getByRole('textbox', { name: 'User' }).fill('guest');
    await live.getByLabel('Password').fill('guest');
    await live.getByRole('button', { name: 'Connect', exact: true }).click();
    await live.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    const put = await fetch(`${api}/queues/%2F/live-q`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ durable: false, auto_delete: false, arguments: {} }) });
    assert.ok(put.ok, `PUT queue: ${put.status}`);
    const liveNode = (name) => live.getByRole('group', { name, exact: true });
    await liveNode('queue live-q').waitFor();
    const pub = await fetch(`${api}/exchanges/%2F/amq.default/publish`, { method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: {}, routing_key: 'live-q', payload: 'hello', payload_encoding: 'string' }) });
    assert.ok(pub.ok, `publish: ${pub.status}`);
    const log = live.getByRole('region', { name: 'Event log' });
    await log.filter({ hasText: /published to exchange/ }).waitFor();
    await log.filter({ hasText: /enqueued on 'live-q'/ }).waitFor();
    await liveNode('producer HTTP API').waitFor();
    await live.waitForFunction(() => [...document.querySelectorAll('[aria-label="queue live-q"] text.figures')]
      .some((t) => /ready 1/.test(t.textContent)));
    // A second publish, to catch its dot in flight along the edges.
    const flying = live.waitForFunction(() => [...document.querySelectorAll('g.flights > *')]
      .some((d) => d.getAttribute('transform') !== 'translate(-100,-100)'), null, { timeout: 5000 });
    await fetch(`${api}/exchanges/%2F/amq.default/publish`, { method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: {}, routing_key: 'live-q', payload: 'again', payload_encoding: 'string' }) });
    await flying;
    await live.waitForFunction(() => [...document.querySelectorAll('[aria-label="queue live-q"] text.figures')]
      .some((t) => /ready 2/.test(t.textContent)));
    await live.screenshot({ path: path.join(artifacts, 'live.png'), fullPage: true });
    await live.getByRole('button', { name: 'Live', exact: true }).click();
    await live.getByRole('group', { name: saved, exact: true }).waitFor();
    assert.equal(await live.getByRole('group', { name: 'queue live-q', exact: true }).count(), 0);
    await live.close();
  } finally {
    server.kill();
    fs.rmSync(data, { recursive: true, force: true });
  }
});

test('tutorials: open lesson 2, switch to 中文, predict, reveal, run', async () => {
  await button('Tutorials').click();
  await button('Lesson 2: Work queues').click();
  await node('queue task_queue').waitFor({ timeout: 10000 });
  const lesson = page.getByRole('complementary', { name: 'Tutorials' });
  await lesson.getByRole('heading', { name: 'Lesson 2: Work queues' }).waitFor();
  await button('中文').click();
  await lesson.getByRole('heading', { name: '第 2 课：工作队列' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('warren.playground.lang')), 'zh');
  const q1 = lesson.getByRole('group', { name: '问题 1' });
  assert.equal(await q1.getByRole('button', { name: '揭晓答案' }).isDisabled(), true, 'predict first');
  await q1.getByRole('textbox', { name: '你的预测' }).fill('worker2');
  await q1.getByRole('button', { name: '揭晓答案' }).click();
  const answer = await q1.getByRole('note', { name: '答案' }).textContent();
  assert.match(answer, /worker2/);
  await q1.getByRole('button', { name: '运行到结束' }).click();
  await page.waitForFunction(() => document.querySelector('.clock')?.textContent.includes('finished'));
  await button('引导模式').click();
  await button('下一节').click();
  await button('English').click();
  await lesson.getByRole('heading', { name: 'Goal' }).waitFor();
  await page.screenshot({ path: path.join(artifacts, 'tutorial.png'), fullPage: true });
  await button('Close tutorials').click();
});

test('build a work queue from an empty canvas, step it, and go Back', async () => {
  // Clear the canvas through the UI: select each box, Delete. Clients first, so no
  // consume step keeps a deleted queue drawn; the default exchange always stays.
  const boxes = page.getByRole('group', { name: /^(producer|consumer|queue|exchange) / });
  const deletable = async () => {
    const names = (await boxes.evaluateAll((gs) => gs.map((g) => g.getAttribute('aria-label'))))
      .filter((n) => n !== 'exchange (default)');
    const order = (n) => ['producer', 'consumer', 'queue', 'exchange'].indexOf(n.split(' ')[0]);
    return names.sort((a, b) => order(a) - order(b));
  };
  for (let left = await deletable(), i = 0; left.length > 0; left = await deletable(), i++) {
    assert.ok(i < 50, `could not clear the canvas: ${left.join(', ')}`);
    const count = left.length;
    await node(left[0]).click();
    await button('Delete').click();
    await page.waitForFunction((n) => document.querySelectorAll('svg.canvas g.node[role=group]').length <= n,
      count, { timeout: 5000 });
  }
  assert.deepEqual(await boxes.evaluateAll((gs) => gs.map((g) => g.getAttribute('aria-label'))), ['exchange (default)']);

  for (const [what, name] of [['producer', 'producer P1'], ['queue', 'queue q1'],
    ['consumer', 'consumer C1'], ['consumer', 'consumer C2']]) {
    await button(`Add ${what}`).click();
    await node(name).waitFor();
  }
  const status = page.getByRole('status');
  const connect = async (from, to, said) => {
    const port = await node(from).locator('circle.port').boundingBox();
    const box = await node(to).locator('rect.box').boundingBox();
    await page.mouse.move(port.x + port.width / 2, port.y + port.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await status.filter({ hasText: said }).waitFor();
  };
  // A producer publishes through the default exchange when dropped on a queue.
  await connect('producer P1', 'queue q1', 'P1 now publishes to q1 via the default exchange');
  await connect('queue q1', 'consumer C1', 'C1 now consumes from q1');
  await connect('queue q1', 'consumer C2', 'C2 now consumes from q1');

  await node('producer P1').click();
  const count = page.getByRole('textbox', { name: 'Count' });
  await count.fill('4');
  await count.press('Enter');
  await page.waitForFunction(() => [...document.querySelectorAll('[aria-label="producer P1"] text.figures')]
    .some((t) => t.textContent.trim() === 'sent 0 of 4'));
  assert.equal(await page.getByRole('alert').count(), 0);

  // Step to the end, keeping every step's figures.
  const snapshot = async () => [await figures('queue q1'), await figures('consumer C1'),
    await figures('consumer C2'), await figures('producer P1')];
  const seen = [await snapshot()];
  // Before the first step the setup connection has not declared q1 yet.
  assert.deepEqual(seen[0], ['not declared', 'unacked 0 · got 0', 'unacked 0 · got 0', 'sent 0 of 4']);
  const log = page.getByRole('region', { name: 'Event log' }).locator('li');
  for (let i = 0; await button('Step').isEnabled(); i++) {
    assert.ok(i < 300, 'the run finishes');
    await button('Step').click();
    seen.push(await snapshot());
  }
  await page.locator('.clock').filter({ hasText: 'finished' }).waitFor();
  assert.equal(await log.count(), seen.length - 1, 'one log line per Step');
  assert.deepEqual(seen.at(-1), ['ready 0 · unacked 0', 'unacked 0 · got 2', 'unacked 0 · got 2', 'sent 4 of 4'],
    'round-robin: two each, all acked');
  assert.ok(seen.some(([q]) => /unacked [1-9]/.test(q)), `the queue held unacked messages: ${seen.map((s) => s[0]).join(' | ')}`);
  const firstTwo = seen.findIndex(([, c1, c2]) => /got [1-9]/.test(c1) && /got [1-9]/.test(c2));
  assert.ok(firstTwo > 0, 'both consumers received messages before the end');
  await page.screenshot({ path: path.join(artifacts, 'work-queue-built.png'), fullPage: true });

  // Back, line by line, restores each earlier step's figures, down to before both got one.
  for (let at = seen.length - 2; at >= firstTwo - 1; at--) {
    await button('Back').click();
    assert.deepEqual(await snapshot(), seen[at], `figures after Back to line ${at}`);
  }
  assert.equal(await log.count(), firstTwo - 1);
  assert.equal(await button('Step').isEnabled(), true, 'no longer finished');
});

test('no errors in the console', () => {
  assert.deepEqual(errors, []);
});
