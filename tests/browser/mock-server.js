#!/usr/bin/env node
/* A stand-in for vigil-collector, for the dashboard's browser test: serves
 * dashboards/web/ and the API of collectors/API.md from memory.
 *
 *   node mock-server.js [--token TOKEN] [--port N]
 *
 * Listens on 127.0.0.1 (port 0, a random one, by default) and prints
 * "listening on http://127.0.0.1:PORT". Test-only endpoints, which need no
 * token:
 *   POST /test/alert     add an event (fields given are merged over a
 *                        default alert) and push it on the stream; answers
 *                        with the full event
 *   GET  /test/requests  the API requests seen so far (method, path, query,
 *                        whether the token was right)
 */
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const WEB = path.resolve(__dirname, '..', '..', 'dashboards', 'web');
const STATIC = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/i18n.js': ['i18n.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const TOKEN = arg('--token', process.env.VIGIL_TOKEN || '');
const PORT = Number(arg('--port', '0'));

/* ---------- data ---------- */

function uuid7(ms) {
  const b = crypto.randomBytes(16);
  const hex = ms.toString(16).padStart(12, '0');
  for (let i = 0; i < 6; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/* The agent's format: 2026-12-01T08:00:00.123456+0000 */
function eveTime(ms) {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+0000');
}

function isoTime(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseEveTime(s) {
  const m = /^(.{19})(\.\d+)?([+-]\d\d)(\d\d)$/.exec(String(s));
  if (m) return Date.parse(m[1] + (m[2] ? m[2].slice(0, 4) : '') + m[3] + ':' + m[4]);
  return Date.parse(s);
}

const AGENTS = [
  { agent_id: 'a1', agency: 'so-tttt-hanoi', host: 'web01', version: '0.1.0', online: true, capture_drops: 0, spool_pending: 0, uptime: 86400 },
  { agent_id: 'a2', agency: 'so-tttt-hanoi', host: 'mail01', version: '0.1.0', online: true, capture_drops: 1520, spool_pending: 0, uptime: 3600 },
  { agent_id: 'b1', agency: 'bo-tai-chinh', host: 'portal', version: '0.1.0', online: true, capture_drops: 0, spool_pending: 37, uptime: 172800 },
  { agent_id: 'c1', agency: 'ubnd-danang', host: 'dvc01', version: '0.0.9', online: false, capture_drops: 12, spool_pending: 0, uptime: 600 },
];
const agentSeen = new Map();

const events = []; /* newest last */

function agentFor(id) {
  return AGENTS.find((a) => a.agent_id === id) || AGENTS[0];
}

function makeAlert(ms, o) {
  const ag = agentFor(o.agent || 'a1');
  const ev = {
    timestamp: eveTime(ms),
    flow_id: 1000 + events.length,
    event_type: 'alert',
    src_ip: o.src || '203.0.113.9',
    src_port: 51512,
    dest_ip: o.dest || '10.1.2.3',
    dest_port: o.port || 22,
    proto: 'TCP',
    app_proto: o.app || 'ssh',
    host: ag.host,
    alert: {
      action: 'allowed', gid: 1, signature_id: o.sid || 1000902, rev: 1,
      signature: o.sig || 'SSH brute force',
      category: o.cat || 'credential-access',
      severity: o.sev || 1,
      metadata: { mitre_technique_id: o.mitre || ['T1110'] },
    },
    flow: {
      pkts_toserver: 12, pkts_toclient: 10, bytes_toserver: 900, bytes_toclient: 1200,
      start: eveTime(ms - 4000), end: eveTime(ms),
    },
    vigil: { event_id: uuid7(ms), agent_id: ag.agent_id, agency: ag.agency, agent_version: ag.version },
  };
  if (o.cc) ev.geoip = { src: { country_iso: o.cc, asn: o.asn || 64501, as_org: o.org || 'Example Hosting' } };
  return ev;
}

function makeFileEvent(ms, o) {
  const ag = agentFor(o.agent || 'a1');
  const ev = {
    timestamp: eveTime(ms),
    event_type: o.yara ? 'alert' : 'fileinfo',
    host: ag.host,
    fileinfo: {
      filename: o.file, state: 'CLOSED', stored: false, size: o.size || 123,
      sha256: crypto.createHash('sha256').update(o.file).digest('hex'),
      uid: 33, gid: 33, mode: '0644', source: 'inotify',
    },
    vigil: { event_id: uuid7(ms), agent_id: ag.agent_id, agency: ag.agency, agent_version: ag.version },
  };
  if (o.yara) {
    ev.alert = {
      action: 'allowed', gid: 1, signature_id: 2000101, rev: 1,
      signature: 'YARA ' + o.yara, category: 'webshell', severity: 1,
      metadata: { mitre_technique_id: ['T1505.003'] },
    };
    ev.fileinfo.yara = [{
      rule: o.yara, namespace: 'default', tags: ['webshell'],
      meta: { author: 'Vigil rules team', description: 'PHP eval of request data' },
      strings: [{ id: '$a', count: 1, offsets: [6] }, { id: '$b', count: 2, offsets: [40, 97] }],
    }];
  }
  return ev;
}

function seed() {
  const now = Date.now();
  const specs = [
    [55, { sig: 'SSH brute force', sev: 1, cc: 'RU', src: '203.0.113.9' }],
    [48, { sig: 'ET SCAN Nmap SYN scan', sev: 3, sid: 2009582, cat: 'discovery', mitre: ['T1046'], cc: 'CN', src: '198.51.100.20', agent: 'b1', port: 443, app: 'tls' }],
    [41, { sig: 'HTTP SQL injection attempt', sev: 2, sid: 1000301, cat: 'initial-access', mitre: ['T1190'], cc: 'US', src: '192.0.2.44', agent: 'b1', port: 80, app: 'http' }],
    [33, { sig: 'SSH brute force', sev: 1, cc: 'RU', src: '203.0.113.10', agent: 'a2' }],
    [27, { sig: 'DNS query to known DGA domain', sev: 2, sid: 1000510, cat: 'command-and-control', mitre: ['T1568.002'], src: '10.1.2.7', dest: '10.1.0.53', port: 53, app: 'dns' }],
    [21, { sig: 'TLS SNI on IoC list', sev: 2, sid: 1000620, cat: 'command-and-control', mitre: ['T1071.001'], cc: 'NL', src: '10.1.2.8', dest: '198.51.100.77', port: 443, app: 'tls', agent: 'c1' }],
    [15, { sig: 'SSH brute force', sev: 1, cc: 'CN', src: '198.51.100.21', agent: 'a1' }],
    [9, { sig: 'Outdated TLS version', sev: 3, sid: 1000700, cat: 'policy', mitre: [], src: '10.1.2.9', dest: '192.0.2.80', port: 443, app: 'tls', agent: 'a2' }],
    [4, { sig: 'ICMP sweep', sev: 4, sid: 1000800, cat: 'discovery', mitre: ['T1018'], cc: 'VN', src: '192.0.2.200', agent: 'b1', port: 0, app: 'failed' }],
  ];
  for (const [min, o] of specs) events.push(makeAlert(now - min * 60000, o));
  events.push(makeFileEvent(now - 12 * 60000, { file: '/var/www/up/x.php', yara: 'Vigil_PHP_Eval_Request', agent: 'a1' }));
  events.push(makeFileEvent(now - 6 * 60000, { file: '/srv/portal/uploads/report-2026.pdf', size: 48213, agent: 'b1' }));
  events.sort((a, b) => parseEveTime(a.timestamp) - parseEveTime(b.timestamp));
  for (const a of AGENTS) agentSeen.set(a.agent_id, a.online ? now - 5000 : now - 2 * 3600 * 1000);
}

/* ---------- queries ---------- */

function severityOf(ev) {
  const s = ev.alert ? Number(ev.alert.severity) : NaN;
  return s >= 1 && s <= 4 ? s : 4;
}

function newestFirst() {
  return events.slice().sort((a, b) =>
    (parseEveTime(b.timestamp) - parseEveTime(a.timestamp)) ||
    (a.vigil.event_id < b.vigil.event_id ? 1 : -1));
}

class BadRequest extends Error {}

function queryAlerts(q) {
  const get = (k) => (q.get(k) || '');
  const agency = get('agency');
  const severity = get('severity');
  const type = get('type');
  const text = get('q').toLowerCase();
  const limitS = get('limit') || '100';
  const before = get('before');
  if (severity && !/^[1-4]$/.test(severity)) throw new BadRequest('severity: 1 to 4');
  if (type && type !== 'alert' && type !== 'fileinfo') throw new BadRequest('type: alert or fileinfo');
  if (!/^\d+$/.test(limitS) || Number(limitS) < 1 || Number(limitS) > 1000) throw new BadRequest('limit: 1 to 1000');
  if (text.length > 200) throw new BadRequest('q: at most 200 characters');
  const since = get('since') ? Date.parse(get('since')) : null;
  const until = get('until') ? Date.parse(get('until')) : null;
  if (Number.isNaN(since)) throw new BadRequest('since: not an ISO 8601 time');
  if (Number.isNaN(until)) throw new BadRequest('until: not an ISO 8601 time');
  let list = newestFirst();
  if (before) {
    const i = list.findIndex((e) => e.vigil.event_id === before);
    if (i < 0) throw new BadRequest('before: unknown event id');
    list = list.slice(i + 1);
  }
  list = list.filter((e) => {
    if (agency && e.vigil.agency !== agency) return false;
    if (severity && String(severityOf(e)) !== severity) return false;
    if (type && e.event_type !== type) return false;
    const ms = parseEveTime(e.timestamp);
    if (since !== null && ms < since) return false;
    if (until !== null && ms >= until) return false;
    if (text) {
      const f = [e.alert && e.alert.signature, e.src_ip, e.dest_ip, e.fileinfo && e.fileinfo.filename, e.vigil.agency];
      if (!f.some((v) => typeof v === 'string' && v.toLowerCase().includes(text))) return false;
    }
    return true;
  });
  const limit = Number(limitS);
  const items = list.slice(0, limit);
  return { items, next: list.length > limit ? items[items.length - 1].vigil.event_id : null };
}

function timeseries(minutes) {
  const now = Date.now();
  const end = Math.floor(now / 60000) * 60000;
  const first = end - (minutes - 1) * 60000;
  const rows = [];
  for (let i = 0; i < minutes; i++) {
    rows.push({ t: isoTime(first + i * 60000), total: 0, by_severity: { 1: 0, 2: 0, 3: 0, 4: 0 } });
  }
  const sigs = new Map();
  const countries = new Map();
  for (const e of events) {
    const ms = parseEveTime(e.timestamp);
    if (ms < first || ms >= end + 60000) continue;
    const r = rows[Math.floor((ms - first) / 60000)];
    r.total++;
    r.by_severity[severityOf(e)]++;
    if (e.event_type !== 'alert' || !e.alert) continue;
    const k = e.alert.signature_id + '\u0000' + e.alert.signature;
    const s = sigs.get(k) || { signature: e.alert.signature, signature_id: e.alert.signature_id, count: 0 };
    s.count++;
    sigs.set(k, s);
    const cc = e.geoip && e.geoip.src && e.geoip.src.country_iso;
    if (cc) countries.set(cc, (countries.get(cc) || 0) + 1);
  }
  const top = (arr) => arr.sort((a, b) => b.count - a.count).slice(0, 10);
  return {
    minutes: rows,
    top_signatures: top([...sigs.values()]),
    top_countries: top([...countries].map(([country, count]) => ({ country, count }))),
  };
}

/* ---------- HTTP ---------- */

const streams = new Set();
const seen = [];

function send(res, status, body, extra) {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, Object.assign({
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': data.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  }, extra || {}));
  res.end(data);
}

function authorized(req, url) {
  if (!TOKEN) return true;
  const h = req.headers.authorization || '';
  if (h === 'Bearer ' + TOKEN) return true;
  return url.pathname === '/api/stream' && url.searchParams.get('token') === TOKEN;
}

function push(ev) {
  const frame = `event: alert\nid: ${ev.vigil.event_id}\ndata: ${JSON.stringify(ev)}\n\n`;
  for (const res of streams) res.write(frame);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 1 << 20) {
        reject(new BadRequest('body too large'));
        req.destroy();
      } else {
        chunks.push(c);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function testAlert(req, res) {
  let o;
  try {
    o = JSON.parse((await readBody(req)) || '{}');
  } catch (e) {
    return send(res, 400, { error: 'body: not JSON' });
  }
  const now = Date.now();
  const ev = makeAlert(now, {});
  for (const [k, v] of Object.entries(o || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v) && ev[k] && typeof ev[k] === 'object') {
      ev[k] = Object.assign({}, ev[k], v);
    } else {
      ev[k] = v;
    }
  }
  if (ev.event_type === 'fileinfo' && !('flow' in o)) {
    delete ev.flow;
    delete ev.alert;
  }
  events.push(ev);
  push(ev);
  send(res, 201, ev);
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const p = url.pathname;

  if (p === '/test/alert' && req.method === 'POST') return testAlert(req, res);
  if (p === '/test/requests' && req.method === 'GET') return send(res, 200, { items: seen });

  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, { error: 'method not allowed' }, { Allow: 'GET' });
  }

  if (STATIC[p]) {
    const [file, type] = STATIC[p];
    const data = fs.readFileSync(path.join(WEB, file));
    res.writeHead(200, {
      'Content-Type': type, 'Content-Length': data.length,
      'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff',
    });
    return res.end(req.method === 'HEAD' ? undefined : data);
  }

  if (p === '/healthz') return send(res, 200, { ok: true, redis: 'up', version: '0.1.0-mock' });

  if (!p.startsWith('/api/')) return send(res, 404, { error: 'not found' });

  const ok = authorized(req, url);
  const q = {};
  for (const [k, v] of url.searchParams) if (k !== 'token') q[k] = v;
  seen.push({ method: req.method, path: p, query: q, authorized: ok,
    token_in_query: url.searchParams.has('token') });
  if (!ok) return send(res, 401, { error: 'token required' }, { 'WWW-Authenticate': 'Bearer realm="vigil"' });

  try {
    if (p === '/api/alerts') return send(res, 200, queryAlerts(url.searchParams));
    const m = /^\/api\/alerts\/([^/]+)$/.exec(p);
    if (m) {
      const id = decodeURIComponent(m[1]);
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
        return send(res, 400, { error: 'not an event id' });
      }
      const ev = events.find((e) => e.vigil.event_id === id);
      return ev ? send(res, 200, ev) : send(res, 404, { error: 'unknown event' });
    }
    if (p === '/api/agents') {
      const items = AGENTS.map((a) => Object.assign({}, a, { last_seen: isoTime(agentSeen.get(a.agent_id)) }))
        .sort((x, y) => x.agency.localeCompare(y.agency) || x.agent_id.localeCompare(y.agent_id));
      return send(res, 200, { items });
    }
    if (p === '/api/stats/timeseries') {
      const mS = url.searchParams.get('minutes') || '60';
      if (!/^\d+$/.test(mS) || Number(mS) < 1 || Number(mS) > 1440) throw new BadRequest('minutes: 1 to 1440');
      return send(res, 200, timeseries(Number(mS)));
    }
    if (p === '/api/stream') {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff', Connection: 'keep-alive',
      });
      res.write('retry: 3000\n\n');
      streams.add(res);
      const ping = setInterval(() => res.write(': ping\n\n'), 15000);
      req.on('close', () => {
        clearInterval(ping);
        streams.delete(res);
      });
      return undefined;
    }
  } catch (e) {
    if (e instanceof BadRequest) return send(res, 400, { error: e.message });
    throw e;
  }
  return send(res, 404, { error: 'not found' });
}

seed();
const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
    process.stderr.write(`mock-server: ${e.stack || e}\n`);
  });
});
server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const res of streams) res.end();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  });
}
