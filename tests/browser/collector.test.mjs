/* Browser test of the web dashboard (dashboards/web/) served by the real
 * vigil-collector, reading from a real redis-server, in headless Chromium
 * from Debian.
 *
 *   VIGIL_COLLECTOR=../../build/bin/vigil-collector node --test collector.test.mjs
 *
 * Events go in with redis-cli XADD on vigil:events:{AGENCY}, with the
 * fields the agent writes (type, id, eve), as in
 * tests/integration/collector_api.py. Screenshots go to
 * artifacts/collector-*.png. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = resolve(HERE, '..', '..');
const ARTIFACTS = join(HERE, 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const COLLECTOR = resolve(process.env.VIGIL_COLLECTOR || join(SRC, 'build', 'bin', 'vigil-collector'));

let tmp;
let redisPort;
let httpPort;
let base;
const procs = [];
let browser;
let page;
const pageErrors = [];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function tryConnect(port) {
  return new Promise((res) => {
    const c = connect({ host: '127.0.0.1', port }, () => { c.destroy(); res(true); });
    c.on('error', () => res(false));
    c.setTimeout(200, () => { c.destroy(); res(false); });
  });
}

async function waitPort(port, proc, what, timeout = 10000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    if (await tryConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

function startProc(cmd, args, logName) {
  const log = openSync(join(tmp, logName), 'w');
  const p = spawn(cmd, args, { stdio: ['ignore', log, log] });
  procs.push(p);
  return p;
}

function stopProc(p) {
  return new Promise((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    const t = setTimeout(() => { try { p.kill('SIGKILL'); } catch (e) { /* gone */ } }, 5000);
    p.once('exit', () => { clearTimeout(t); res(); });
    try { p.kill('SIGTERM'); } catch (e) { clearTimeout(t); res(); }
  });
}

function cli(...args) {
  return execFileSync('redis-cli', ['-p', String(redisPort), ...args], { encoding: 'utf8' });
}

function xadd(ev) {
  const type = ev.event_type;
  cli('XADD', 'vigil:events:' + ev.vigil.agency, '*',
    'type', type, 'id', ev.vigil.event_id, 'eve', JSON.stringify(ev));
}

/* The agent's time format: 2026-12-01T08:00:00.123456+0000. */
function isoAgent(d) {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000+0000');
}

function alertEvent({ agency, sev, sig, agent, src, country, secsAgo }) {
  return {
    timestamp: isoAgent(new Date(Date.now() - secsAgo * 1000)),
    event_type: 'alert', host: 'web-' + agent, src_ip: src, dest_ip: '192.0.2.1',
    alert: { signature: sig, signature_id: 1000000 + sig.length, severity: sev, category: 'x', action: 'allowed' },
    geoip: { src: { country_iso: country } },
    vigil: { event_id: randomUUID(), agent_id: agent, agency, agent_version: '0.1.0' },
  };
}

function statsEvent(agent, agency) {
  return {
    timestamp: isoAgent(new Date()), event_type: 'stats', host: 'host-' + agent,
    stats: { uptime: 3600, capture: { kernel_drops: 4, ring_drops: 1 }, spool: { pending: 2 } },
    vigil: { event_id: randomUUID(), agent_id: agent, agency, agent_version: '0.1.0' },
  };
}

const initial = [
  alertEvent({ agency: 'so-hanoi', sev: 1, sig: 'SSH brute force', agent: 'a1', src: '10.0.0.1', country: 'RU', secsAgo: 50 }),
  alertEvent({ agency: 'so-hue', sev: 2, sig: 'SQL injection attempt', agent: 'b1', src: '10.0.0.2', country: 'CN', secsAgo: 40 }),
  alertEvent({ agency: 'so-hanoi', sev: 3, sig: 'Port scan', agent: 'a1', src: '10.0.0.3', country: 'US', secsAgo: 30 }),
  alertEvent({ agency: 'so-hue', sev: 1, sig: 'Web shell upload', agent: 'b1', src: '10.0.0.4', country: 'KP', secsAgo: 20 }),
  alertEvent({ agency: 'so-hanoi', sev: 2, sig: 'DNS tunnelling', agent: 'a1', src: '10.0.0.5', country: 'IR', secsAgo: 10 }),
];
const all = [...initial];

async function shot(name) {
  await page.screenshot({ path: join(ARTIFACTS, 'collector-' + name + '.png'), fullPage: true });
}

function rowIds() {
  return page.$$eval('#feed .alert-row', (rows) => rows.map((r) => r.getAttribute('data-id')));
}

async function apiJson(path) {
  const res = await fetch(base + path);
  assert.equal(res.status, 200, path);
  return res.json();
}

async function waitFor(fn, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/* The feed shows exactly the ids in want (any order). */
async function expectRows(want, what) {
  const sorted = [...want].sort();
  try {
    await page.waitForFunction((w) => {
      const got = [...document.querySelectorAll('#feed .alert-row')].map((r) => r.getAttribute('data-id')).sort();
      return JSON.stringify(got) === JSON.stringify(w);
    }, sorted, { timeout: 5000 });
  } catch (e) {
    assert.deepEqual((await rowIds()).sort(), sorted, what);
  }
}

async function cleanup() {
  if (browser) { await browser.close().catch(() => {}); browser = null; }
  for (const p of procs.reverse()) await stopProc(p);
  procs.length = 0;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { cleanup().finally(() => process.exit(130)); });
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'vigil-browser-'));
  try {
    redisPort = await freePort();
    const redis = startProc('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--dir', tmp], 'redis.log');
    await waitPort(redisPort, redis, 'redis-server');

    for (const ev of initial) xadd(ev);
    xadd(statsEvent('a1', 'so-hanoi'));

    httpPort = await freePort();
    const archive = join(tmp, 'archive');
    mkdirSync(archive);
    const cfg = join(tmp, 'collector.yaml');
    writeFileSync(cfg, [
      'redis:', `  url: redis://127.0.0.1:${redisPort}`,
      'archive:', `  dir: ${archive}`,
      'http:', `  listen: "127.0.0.1:${httpPort}"`, `  static_dir: ${join(SRC, 'dashboards', 'web')}`, '',
    ].join('\n'));
    const coll = startProc(COLLECTOR, ['run', '-c', cfg], 'collector.log');
    try {
      await waitPort(httpPort, coll, 'vigil-collector');
    } catch (e) {
      throw new Error(e.message + '\n' + readFileSync(join(tmp, 'collector.log'), 'utf8'));
    }
    base = `http://127.0.0.1:${httpPort}`;

    /* Wait until the collector has consumed the seed events. */
    const ok = await waitFor(async () => {
      const { items } = await apiJson('/api/alerts?limit=100');
      const agents = (await apiJson('/api/agents')).items;
      return items.length === initial.length && agents.some((a) => a.agent_id === 'a1' && a.online);
    });
    assert.ok(ok, 'the collector consumed the seed events:\n' + readFileSync(join(tmp, 'collector.log'), 'utf8'));

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'en-US' });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    page.on('response', (r) => { if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.url()}`); });
    await page.goto(base + '/');
  } catch (e) {
    await cleanup();
    throw e;
  }
});

after(async () => {
  await cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the initial alerts from Redis are in the feed', async () => {
  await expectRows(initial.map((e) => e.vigil.event_id), 'initial alerts');
  const { items } = await apiJson('/api/alerts?limit=100');
  assert.deepEqual(await rowIds(), items.map((e) => e.vigil.event_id), 'same order as the API');
  await shot('01-loaded');
});

test('an alert XADDed after the page loaded appears within 2 s', async () => {
  await page.waitForSelector('#conn[data-state="open"]', { timeout: 5000 });
  const ev = alertEvent({ agency: 'so-hue', sev: 2, sig: 'Live test: RDP brute force', agent: 'b1', src: '192.0.2.123', country: 'VN', secsAgo: 0 });
  all.push(ev);
  xadd(ev);
  await page.waitForSelector(`#feed .alert-row[data-id="${ev.vigil.event_id}"]`, { timeout: 2000 });
  assert.equal((await rowIds())[0], ev.vigil.event_id, 'newest first');
  await shot('02-live-alert');
});

test('the agency and severity filters show only matching rows', async () => {
  await page.selectOption('#filter-agency', 'so-hanoi');
  await expectRows(all.filter((e) => e.vigil.agency === 'so-hanoi').map((e) => e.vigil.event_id), 'agency so-hanoi');
  await shot('03-filter-agency');
  await page.selectOption('#filter-agency', 'so-hue');
  await expectRows(all.filter((e) => e.vigil.agency === 'so-hue').map((e) => e.vigil.event_id), 'agency so-hue');

  await page.selectOption('#filter-severity', '1');
  await expectRows(all.filter((e) => e.vigil.agency === 'so-hue' && e.alert.severity === 1)
    .map((e) => e.vigil.event_id), 'so-hue and severity 1');
  await page.selectOption('#filter-agency', '');
  await expectRows(all.filter((e) => e.alert.severity === 1).map((e) => e.vigil.event_id), 'severity 1');
  await shot('04-filter-severity');
  await page.selectOption('#filter-severity', '');
  await expectRows(all.map((e) => e.vigil.event_id), 'no filter');
});

test('the language switch to Vietnamese sets <html lang="vi">', async () => {
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.selectOption('#lang', 'vi');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  await shot('05-vietnamese');
  await page.selectOption('#lang', 'en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
});

test('the agents table shows the agent as online', async () => {
  await page.waitForSelector('#agents .agent-row[data-agent="a1"]');
  assert.equal(await page.getAttribute('#agents .agent-row[data-agent="a1"]', 'data-online'), 'true');
  assert.match(await page.textContent('#agents .agent-row[data-agent="a1"]'), /so-hanoi/);
  assert.match(await page.textContent('#agents .agent-row[data-agent="a1"]'), /online/i);
  await shot('06-agents');
});

test('clicking a row fills the detail JSON with that event', async () => {
  const ev = initial[1];
  const id = ev.vigil.event_id;
  await page.click(`#feed .alert-row[data-id="${id}"]`);
  await page.waitForSelector('#detail', { state: 'visible' });
  await page.waitForFunction((i) => document.getElementById('detail-json').textContent.includes(i), id,
    { timeout: 3000 });
  const json = JSON.parse(await page.textContent('#detail-json'));
  assert.equal(json.vigil.event_id, id);
  assert.equal(json.alert.signature, ev.alert.signature);
  await shot('07-detail');
});

test('no page errors', () => {
  assert.deepEqual(pageErrors, []);
});
