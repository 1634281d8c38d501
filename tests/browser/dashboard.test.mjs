/* Browser test of the web dashboard (dashboards/web/) against the mock
 * collector (mock-server.js), in headless Chromium from Debian.
 *
 *   node --test dashboard.test.mjs
 *
 * Screenshots go to artifacts/. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'test-token-7f3a';
const XSS = '<img src=x onerror=alert(1)>';

let server;
let base;
let browser;
let page;
const pageErrors = [];
const dialogs = [];

async function startServer() {
  server = spawn(process.execPath, [join(HERE, 'mock-server.js'), '--token', TOKEN],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('mock server did not start')), 10000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error('mock server exited with ' + code)));
  });
}

async function mock(path, body) {
  const res = await fetch(base + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.ok(res.ok, `${path}: HTTP ${res.status}`);
  return res.json();
}

async function api(path) {
  const res = await fetch(base + path, { headers: { Authorization: 'Bearer ' + TOKEN } });
  assert.equal(res.status, 200, path);
  return res.json();
}

async function shot(name) {
  await page.screenshot({ path: join(ARTIFACTS, name + '.png'), fullPage: true });
}

/* The ids of the rows the feed shows, top to bottom. */
function rowIds() {
  return page.$$eval('#feed .alert-row', (rows) => rows.map((r) => r.getAttribute('data-id')));
}

async function setFilter(sel, value) {
  if (sel === '#filter-text') await page.fill(sel, value);
  else await page.selectOption(sel, value);
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  base = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'en-US' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.goto(base + '/#token=' + TOKEN);
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
});

test('loads the initial alerts, newest first, and the agents table', async () => {
  const { items } = await api('/api/alerts?limit=100');
  assert.ok(items.length >= 10, 'the mock has seed alerts');
  await page.waitForFunction((n) => document.querySelectorAll('#feed .alert-row').length === n,
    items.length, { timeout: 5000 });
  assert.deepEqual(await rowIds(), items.map((e) => e.vigil.event_id));

  const { items: agents } = await api('/api/agents');
  const online = agents.filter((a) => a.online).length;
  await page.waitForSelector('#agents .agent-row');
  assert.equal(await page.locator('#agents .agent-row').count(), agents.length);
  assert.equal(await page.locator('#agents .agent-row[data-online="true"]').count(), online);
  assert.equal(await page.locator('#agents .agent-row[data-online="false"]').count(), agents.length - online);
  assert.equal(online, 3);
  assert.match(await page.textContent('#agents-summary'), /3 online, 1 offline/);

  /* Severity colours come from the row's severity. */
  const sevs = await page.$$eval('#feed .alert-row', (rows) => rows.map((r) => r.getAttribute('data-severity')));
  assert.ok(sevs.every((s) => /^[1-4]$/.test(s)));
  const red = await page.$eval('#feed .alert-row[data-severity="1"] .badge',
    (b) => getComputedStyle(b).backgroundColor);
  assert.equal(red, 'rgb(211, 47, 47)');

  /* Statistics: the chart and both top lists. */
  await page.waitForSelector('#top-signatures li .top-name');
  assert.match(await page.textContent('#top-signatures'), /SSH brute force/);
  assert.match(await page.textContent('#top-countries'), /RU/);
  assert.equal(await page.$eval('#chart', (c) => c.tagName), 'CANVAS');
  const painted = await page.$eval('#chart', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) n++;
    return n;
  });
  assert.ok(painted > 0, 'the chart has red (severity 1) bars');

  /* The token went as a header to the API and as ?token= to the stream,
   * and left the address bar. */
  await page.waitForSelector('#conn[data-state="open"]', { timeout: 5000 });
  const seen = (await mock('/test/requests')).items;
  assert.ok(seen.length > 0);
  assert.ok(seen.every((r) => r.authorized), 'every API request carried the token');
  assert.ok(seen.some((r) => r.path === '/api/stream' && r.token_in_query));
  assert.ok(seen.filter((r) => r.path !== '/api/stream').every((r) => !r.token_in_query));
  assert.equal(new URL(page.url()).hash, '');
  await shot('01-loaded');
});

test('an alert pushed on the stream appears at the top of the feed within 2 s', async () => {
  const ev = await mock('/test/alert', {
    src_ip: '192.0.2.123',
    alert: { signature: 'Live test: RDP brute force', severity: 2, signature_id: 1000950 },
    geoip: { src: { country_iso: 'KP', asn: 64999, as_org: 'Example Transit' } },
  });
  const id = ev.vigil.event_id;
  await page.waitForSelector(`#feed .alert-row[data-id="${id}"]`, { timeout: 2000 });
  assert.equal((await rowIds())[0], id, 'newest first');
  assert.equal(await page.getAttribute(`#feed .alert-row[data-id="${id}"]`, 'data-severity'), '2');
  await shot('02-live-alert');
});

test('severity, type, agency and text filters hide and show the right rows', async () => {
  const all = (await api('/api/alerts?limit=1000')).items;
  const expect = async (pred, what) => {
    const want = all.filter(pred).map((e) => e.vigil.event_id);
    assert.ok(want.length > 0, what + ': some rows should match');
    await page.waitForFunction((ids) => {
      const got = [...document.querySelectorAll('#feed .alert-row')].map((r) => r.getAttribute('data-id'));
      return got.length === ids.length && got.every((x, i) => x === ids[i]);
    }, want, { timeout: 3000 }).catch(() => {});
    assert.deepEqual(await rowIds(), want, what);
  };
  const sev = (e) => (e.alert ? e.alert.severity : 4);

  await setFilter('#filter-severity', '1');
  await expect((e) => sev(e) === 1, 'severity 1');
  assert.ok((await page.$$eval('#feed .alert-row', (r) => r.map((x) => x.dataset.severity)))
    .every((s) => s === '1'));
  await shot('03-filter-severity');

  await setFilter('#filter-severity', '3');
  await expect((e) => sev(e) === 3, 'severity 3');
  await setFilter('#filter-severity', '');

  await setFilter('#filter-type', 'fileinfo');
  await expect((e) => e.event_type === 'fileinfo', 'type fileinfo');
  await setFilter('#filter-type', '');

  await setFilter('#filter-agency', 'bo-tai-chinh');
  await expect((e) => e.vigil.agency === 'bo-tai-chinh', 'agency');
  await setFilter('#filter-agency', '');

  await setFilter('#filter-text', 'x.php');
  await expect((e) => e.fileinfo && e.fileinfo.filename.includes('x.php'), 'text: file name');
  await setFilter('#filter-text', '198.51.100');
  await expect((e) => [e.src_ip, e.dest_ip].some((ip) => ip && ip.includes('198.51.100')), 'text: IP');
  await setFilter('#filter-text', 'ssh BRUTE');
  await expect((e) => e.alert && /ssh brute/i.test(e.alert.signature), 'text: signature, any case');
  await shot('04-filter-text');

  /* Combined with severity, and nothing matching. */
  await setFilter('#filter-severity', '4');
  assert.equal(await page.locator('#feed .alert-row').count(), 0);
  assert.equal(await page.locator('#feed .empty').count(), 1);

  /* The filters were passed to /api/alerts as query parameters too. */
  await page.waitForTimeout(500);
  const q = (await mock('/test/requests')).items.filter((r) => r.path === '/api/alerts').map((r) => r.query);
  assert.ok(q.some((x) => x.severity === '1'), 'severity parameter');
  assert.ok(q.some((x) => x.type === 'fileinfo'), 'type parameter');
  assert.ok(q.some((x) => x.agency === 'bo-tai-chinh'), 'agency parameter');
  assert.ok(q.some((x) => x.q === 'ssh BRUTE' && x.severity === '4'), 'q with severity');

  await page.click('#filter-clear');
  await expect(() => true, 'cleared');
});

test('the language switch shows Vietnamese, sets <html lang>, and is remembered', async () => {
  const h1 = page.locator('h1');
  assert.equal(await h1.textContent(), 'Vigil — National Monitoring Center');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');

  await page.selectOption('#lang', 'vi');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.equal(await h1.textContent(), 'Vigil — Trung tâm Giám sát Quốc gia');
  assert.equal(await page.textContent('#feed-heading'), 'Luồng cảnh báo trực tiếp');
  assert.equal(await page.textContent('#agents-heading'), 'Tác tử giám sát');
  assert.match(await page.textContent('#agents-summary'), /3 trực tuyến, 1 ngoại tuyến/);
  assert.match(await page.textContent('#agents'), /Ngoại tuyến/);
  assert.match(await page.textContent('#conn'), /Trực tuyến/);
  assert.match(await page.textContent('#feed .alert-row[data-severity="1"] .badge'), /Cao/);
  assert.equal(await page.title(), 'Vigil — Trung tâm Giám sát Quốc gia');
  await shot('05-vietnamese');

  /* Kept across a reload (the token too: it is in localStorage now). */
  await page.reload();
  await page.waitForSelector('#feed .alert-row');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.equal(await h1.textContent(), 'Vigil — Trung tâm Giám sát Quốc gia');
  assert.equal(await page.inputValue('#lang'), 'vi');

  await page.selectOption('#lang', 'en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await h1.textContent(), 'Vigil — National Monitoring Center');
  await page.waitForSelector('#conn[data-state="open"]', { timeout: 5000 });
});

test('clicking a row opens the detail panel with the event and its JSON', async () => {
  assert.equal(await page.isVisible('#detail'), false);
  const { items } = await api('/api/alerts?q=x.php&type=alert');
  const ev = items[0];
  const id = ev.vigil.event_id;
  await page.click(`#feed .alert-row[data-id="${id}"]`);
  await page.waitForSelector('#detail', { state: 'visible' });
  const json = await page.textContent('#detail-json');
  assert.ok(json.includes(id), 'the JSON has the event id');
  assert.deepEqual(JSON.parse(json), ev, 'the full event, pretty-printed');
  assert.ok(json.includes('\n  "timestamp"'), 'pretty-printed');
  const detail = await page.textContent('#detail');
  assert.match(detail, /YARA Vigil_PHP_Eval_Request/);
  assert.match(detail, /T1505\.003/);
  assert.match(detail, /\/var\/www\/up\/x\.php/);
  assert.equal(await page.textContent('.yara-rule'), 'Vigil_PHP_Eval_Request');
  assert.deepEqual(await page.$$eval('.yara-offsets', (c) => c.map((x) => x.textContent)), ['6', '40, 97']);
  await shot('06-detail-file');

  /* A network alert: flow, GeoIP. */
  const net = (await api('/api/alerts?q=Live%20test')).items[0];
  await page.click(`#feed .alert-row[data-id="${net.vigil.event_id}"]`);
  await page.waitForFunction((i) => document.getElementById('detail-json').textContent.includes(i),
    net.vigil.event_id);
  const d2 = await page.textContent('#detail-summary');
  assert.match(d2, /192\.0\.2\.123:51512 → 10\.1\.2\.3:22/);
  assert.match(d2, /AS64999 Example Transit/);
  assert.match(d2, /North Korea|KP/);
  assert.match(d2, /12 \/ 10/);
  await shot('07-detail-flow');

  await page.click('#detail-close');
  assert.equal(await page.isVisible('#detail'), false);
});

test('markup in attacker-controlled fields is shown as text, never parsed', async () => {
  const ev = await mock('/test/alert', {
    alert: { signature: 'Exploit ' + XSS, severity: 1 },
    fileinfo: { filename: '/var/www/up/<svg onload=alert(2)>.php', size: 10 },
    event_type: 'alert',
  });
  const id = ev.vigil.event_id;
  const row = `#feed .alert-row[data-id="${id}"]`;
  await page.waitForSelector(row, { timeout: 2000 });
  assert.equal(await page.textContent(`${row} .row-title`), 'Exploit ' + XSS);
  await page.click(row);
  await page.waitForFunction((i) => document.getElementById('detail-json').textContent.includes(i), id);
  assert.match(await page.textContent('#detail-summary'), /Exploit <img src=x onerror=alert\(1\)>/);
  assert.match(await page.textContent('#detail-summary'), /<svg onload=alert\(2\)>/);
  assert.equal(await page.locator('img').count(), 0, 'no img element');
  assert.equal(await page.locator('svg').count(), 0, 'no svg element');
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no script ran');
  await shot('08-markup-as-text');
});

test('no script error or policy violation in the page', () => {
  assert.deepEqual(pageErrors, []);
});
