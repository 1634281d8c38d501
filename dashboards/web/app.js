/* Vigil dashboard.
 *
 * Every string that comes from the API is attacker-controlled (URLs, SNI,
 * file names, signatures): it only ever reaches the page through
 * textContent, attributes set with setAttribute, or the canvas. Nothing
 * here parses HTML. */
'use strict';

(() => {
  const MAX_EVENTS = 2000;    /* events kept in memory */
  const MAX_ROWS = 500;       /* rows drawn in the feed */
  const REFRESH_MS = 10000;   /* agents and statistics */
  const SEV_COLORS = { 1: '#d32f2f', 2: '#ef6c00', 3: '#f9a825', 4: '#8a8f98' };

  const $ = (id) => document.getElementById(id);

  const state = {
    lang: 'en',
    token: null,
    events: new Map(),        /* event_id -> EVE object */
    order: [],                /* event ids, newest first */
    agencies: new Set(),
    agents: [],
    stats: null,
    filters: { agency: '', severity: '', type: '', q: '' },
    selected: null,
    source: null,
    reconnectTimer: null,
    wasOpen: false,
    fetchSeq: 0,
    renderQueued: false,
    updatedAt: 0,
  };

  /* ---------- language ---------- */

  function t(key, vars) {
    const table = VIGIL_STRINGS[state.lang] || VIGIL_STRINGS.en;
    let s = table[key] !== undefined ? table[key] : (VIGIL_STRINGS.en[key] || key);
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
    }
    return s;
  }

  function locale() {
    return state.lang === 'vi' ? 'vi-VN' : 'en-GB';
  }

  function pickLanguage() {
    let lang = null;
    try { lang = localStorage.getItem('vigil.lang'); } catch (e) { /* storage off */ }
    if (!lang || !VIGIL_STRINGS[lang]) {
      lang = (navigator.language || '').toLowerCase().startsWith('vi') ? 'vi' : 'en';
    }
    return lang;
  }

  function applyLanguage(lang) {
    state.lang = VIGIL_STRINGS[lang] ? lang : 'en';
    try { localStorage.setItem('vigil.lang', state.lang); } catch (e) { /* storage off */ }
    document.documentElement.setAttribute('lang', state.lang);
    document.title = t('doc_title');
    $('lang').value = state.lang;
    for (const el of document.querySelectorAll('[data-i18n]')) {
      el.textContent = t(el.getAttribute('data-i18n'));
    }
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) {
      el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder')));
    }
    $('chart').setAttribute('aria-label', t('chart_label'));
    setConn($('conn').getAttribute('data-state') === 'open');
    renderUpdated();
    renderFeed();
    renderAgents();
    renderStats();
    if (state.selected) showDetail(state.selected);
  }

  /* ---------- helpers ---------- */

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function str(v) {
    return v === undefined || v === null ? '' : String(v);
  }

  /* EVE times look like 2026-12-01T08:00:00.123456+0000. */
  function parseTime(s) {
    if (typeof s !== 'string') return NaN;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(s.trim());
    if (!m) return Date.parse(s);
    const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
    let zone = m[3] || 'Z';
    if (zone !== 'Z' && zone.length === 5) zone = zone.slice(0, 3) + ':' + zone.slice(3);
    return Date.parse(m[1] + frac + zone);
  }

  function fmtTime(ms, withDate) {
    if (!Number.isFinite(ms)) return '';
    const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
    if (withDate) Object.assign(opts, { year: 'numeric', month: '2-digit', day: '2-digit' });
    return new Intl.DateTimeFormat(locale(), opts).format(new Date(ms));
  }

  function fmtAgo(ms) {
    if (!Number.isFinite(ms)) return '';
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 90) return t('ago_s', { n: s });
    if (s < 5400) return t('ago_m', { n: Math.round(s / 60) });
    if (s < 172800) return t('ago_h', { n: Math.round(s / 3600) });
    return t('ago_d', { n: Math.round(s / 86400) });
  }

  function fmtNum(n) {
    return typeof n === 'number' && Number.isFinite(n)
      ? new Intl.NumberFormat(locale()).format(n) : '—';
  }

  function countryName(iso) {
    if (typeof iso !== 'string' || !/^[A-Za-z]{2}$/.test(iso)) return str(iso);
    try {
      const name = new Intl.DisplayNames([locale()], { type: 'region' }).of(iso.toUpperCase());
      return name && name !== iso.toUpperCase() ? name + ' (' + iso.toUpperCase() + ')' : iso.toUpperCase();
    } catch (e) {
      return iso.toUpperCase();
    }
  }

  function severityOf(ev) {
    const s = ev && ev.alert ? Number(ev.alert.severity) : NaN;
    return s >= 1 && s <= 4 ? Math.trunc(s) : 4;
  }

  function eventId(ev) {
    return ev && ev.vigil && typeof ev.vigil.event_id === 'string' ? ev.vigil.event_id : null;
  }

  function agencyOf(ev) {
    return ev && ev.vigil ? str(ev.vigil.agency) : '';
  }

  function titleOf(ev) {
    if (ev.alert && ev.alert.signature) return str(ev.alert.signature);
    if (ev.fileinfo && ev.fileinfo.filename) return str(ev.fileinfo.filename);
    return t('file_event');
  }

  function endpoint(ip, port) {
    if (!ip) return '';
    const p = port !== undefined && port !== null ? ':' + port : '';
    return String(ip).includes(':') && p ? '[' + ip + ']' + p : String(ip) + p;
  }

  /* ---------- API ---------- */

  function readToken() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m) {
      const tok = decodeURIComponent(m[1]);
      try { localStorage.setItem('vigil.token', tok); } catch (e) { /* storage off */ }
      /* Keep the token out of the address bar and the history. */
      history.replaceState(null, '', location.pathname + location.search);
      return tok || null;
    }
    try { return localStorage.getItem('vigil.token') || null; } catch (e) { return null; }
  }

  async function api(path) {
    const headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    const res = await fetch(path, { headers, cache: 'no-store', credentials: 'same-origin' });
    if (res.status === 401) {
      showBanner(t('auth_error'));
      throw new Error('401');
    }
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const msg = body && typeof body.error === 'string' ? body.error : 'HTTP ' + res.status;
      throw new Error(msg);
    }
    if (!$('banner').hidden) showBanner(null);
    return body;
  }

  function showBanner(text) {
    const b = $('banner');
    if (text) {
      b.textContent = text;
      b.hidden = false;
    } else {
      b.hidden = true;
      b.textContent = '';
    }
  }

  function noteError(err) {
    if (err && err.message === '401') return;
    showBanner(t('load_error', { msg: err && err.message ? err.message : String(err) }));
  }

  function markUpdated() {
    state.updatedAt = Date.now();
    renderUpdated();
  }

  function renderUpdated() {
    $('updated').textContent = state.updatedAt ? t('updated', { time: fmtTime(state.updatedAt) }) : '';
  }

  /* ---------- events ---------- */

  function addEvent(ev) {
    const id = eventId(ev);
    if (!id || typeof ev !== 'object') return false;
    const known = state.events.has(id);
    state.events.set(id, ev);
    if (agencyOf(ev) && !state.agencies.has(agencyOf(ev))) {
      state.agencies.add(agencyOf(ev));
      renderAgencyOptions();
    }
    return !known;
  }

  function sortEvents() {
    const list = [];
    for (const [id, ev] of state.events) list.push({ id, ms: parseTime(ev.timestamp) || 0 });
    list.sort((a, b) => (b.ms - a.ms) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    while (list.length > MAX_EVENTS) {
      const gone = list.pop();
      if (gone.id !== state.selected) state.events.delete(gone.id);
    }
    state.order = list.map((x) => x.id);
  }

  function matches(ev) {
    const f = state.filters;
    if (f.agency && agencyOf(ev) !== f.agency) return false;
    if (f.severity && String(severityOf(ev)) !== f.severity) return false;
    if (f.type && ev.event_type !== f.type) return false;
    if (f.q) {
      const q = f.q.toLowerCase();
      const fields = [
        ev.alert && ev.alert.signature, ev.src_ip, ev.dest_ip,
        ev.fileinfo && ev.fileinfo.filename, agencyOf(ev),
      ];
      if (!fields.some((v) => typeof v === 'string' && v.toLowerCase().includes(q))) return false;
    }
    return true;
  }

  async function loadAlerts() {
    const seq = ++state.fetchSeq;
    const p = new URLSearchParams();
    for (const k of ['agency', 'severity', 'type', 'q']) {
      if (state.filters[k]) p.set(k, state.filters[k]);
    }
    p.set('limit', '100');
    try {
      const body = await api('/api/alerts?' + p.toString());
      if (seq !== state.fetchSeq) return; /* a newer query is on its way */
      const items = body && Array.isArray(body.items) ? body.items : [];
      for (const ev of items) addEvent(ev);
      sortEvents();
      renderFeed();
      markUpdated();
    } catch (err) {
      noteError(err);
    }
  }

  /* ---------- feed ---------- */

  function queueRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    requestAnimationFrame(() => {
      state.renderQueued = false;
      renderFeed();
    });
  }

  function alertRow(ev) {
    const id = eventId(ev);
    const sev = severityOf(ev);
    const li = el('li', 'alert-row sev-' + sev);
    li.setAttribute('data-id', id);
    li.setAttribute('data-severity', String(sev));
    li.setAttribute('data-type', str(ev.event_type));
    li.setAttribute('tabindex', '0');
    li.setAttribute('role', 'button');
    if (id === state.selected) li.classList.add('selected');

    const ms = parseTime(ev.timestamp);
    const time = el('time', 'row-time', fmtTime(ms));
    if (Number.isFinite(ms)) time.setAttribute('datetime', new Date(ms).toISOString());
    li.append(time);
    li.append(el('span', 'badge sev-' + sev, t('sev_' + sev)));

    const main = el('div', 'row-main');
    main.append(el('div', 'row-title', titleOf(ev)));
    const sub = el('div', 'row-sub');
    if (ev.fileinfo && typeof ev.fileinfo === 'object') {
      sub.append(el('span', 'tag', t('type_fileinfo')));
      if (ev.alert && ev.fileinfo.filename) sub.append(el('span', 'mono', ev.fileinfo.filename));
    }
    if (ev.src_ip || ev.dest_ip) {
      sub.append(el('span', 'mono',
        endpoint(ev.src_ip, ev.src_port) + ' → ' + endpoint(ev.dest_ip, ev.dest_port)));
    }
    const cc = ev.geoip && ev.geoip.src ? ev.geoip.src.country_iso : null;
    if (cc) sub.append(el('span', 'tag', str(cc)));
    main.append(sub);
    li.append(main);

    const where = el('div', 'row-where');
    where.append(el('div', 'row-agency', agencyOf(ev)));
    where.append(el('div', 'muted', str(ev.host)));
    li.append(where);
    return li;
  }

  function renderFeed() {
    const feed = $('feed');
    const rows = [];
    let total = 0;
    for (const id of state.order) {
      const ev = state.events.get(id);
      if (!ev || !matches(ev)) continue;
      total++;
      if (rows.length < MAX_ROWS) rows.push(alertRow(ev));
    }
    if (rows.length === 0) rows.push(el('li', 'empty muted', t('feed_empty')));
    feed.replaceChildren(...rows);
    $('feed-count').textContent = t('feed_count', { shown: Math.min(total, MAX_ROWS), total });
  }

  function renderAgencyOptions() {
    const sel = $('filter-agency');
    const current = sel.value || state.filters.agency;
    const names = [...state.agencies].sort((a, b) => a.localeCompare(b));
    const opts = [el('option', null, t('all_agencies'))];
    opts[0].value = '';
    opts[0].setAttribute('data-i18n', 'all_agencies');
    for (const name of names) {
      const o = el('option', null, name);
      o.value = name;
      opts.push(o);
    }
    sel.replaceChildren(...opts);
    sel.value = names.includes(current) ? current : '';
  }

  /* ---------- detail ---------- */

  function addRow(dl, key, value, mono) {
    if (value === undefined || value === null || value === '') return;
    dl.append(el('dt', null, t(key)));
    dl.append(el('dd', mono ? 'mono' : null, value));
  }

  function geoText(g) {
    if (!g || typeof g !== 'object') return '';
    const parts = [];
    if (g.country_iso) parts.push(countryName(g.country_iso));
    if (g.asn !== undefined && g.asn !== null) {
      parts.push('AS' + g.asn + (g.as_org ? ' ' + g.as_org : ''));
    } else if (g.as_org) {
      parts.push(String(g.as_org));
    }
    return parts.join(' · ');
  }

  function yaraTable(matches) {
    const box = document.createDocumentFragment();
    box.append(el('h3', null, t('detail_yara')));
    for (const m of matches) {
      if (!m || typeof m !== 'object') continue;
      const card = el('div', 'yara');
      const head = el('div', 'yara-head');
      head.append(el('span', 'muted', t('detail_yara_rule') + ' '));
      head.append(el('strong', 'mono yara-rule', str(m.rule)));
      if (m.namespace) head.append(el('span', 'muted', ' (' + m.namespace + ')'));
      card.append(head);
      if (Array.isArray(m.tags) && m.tags.length) {
        const tags = el('div', 'yara-tags');
        tags.append(el('span', 'muted', t('detail_yara_tags') + ' '));
        for (const tag of m.tags) tags.append(el('span', 'tag', str(tag)));
        card.append(tags);
      }
      if (Array.isArray(m.strings) && m.strings.length) {
        const table = el('table', 'yara-strings');
        const hr = el('tr');
        for (const k of ['detail_yara_string', 'detail_yara_count', 'detail_yara_offsets']) {
          hr.append(el('th', null, t(k)));
        }
        const thead = el('thead');
        thead.append(hr);
        table.append(thead);
        const body = el('tbody');
        for (const s of m.strings) {
          if (!s || typeof s !== 'object') continue;
          const tr = el('tr');
          tr.append(el('td', 'mono', str(s.id)));
          tr.append(el('td', 'num', str(s.count)));
          const offs = Array.isArray(s.offsets) ? s.offsets.map((o) => str(o)).join(', ') : '';
          tr.append(el('td', 'mono yara-offsets', offs));
          body.append(tr);
        }
        table.append(body);
        card.append(table);
      }
      box.append(card);
    }
    return box;
  }

  function showDetail(id) {
    const ev = state.events.get(id);
    if (!ev) return;
    state.selected = id;
    const dl = $('detail-summary');
    dl.replaceChildren();
    const a = ev.alert || {};
    const sev = severityOf(ev);

    addRow(dl, 'detail_signature', a.signature ? str(a.signature) +
      (a.signature_id ? ' [' + (a.gid || 1) + ':' + a.signature_id + ':' + (a.rev || 0) + ']' : '') : '');
    dl.append(el('dt', null, t('detail_severity')));
    const sevDd = el('dd');
    sevDd.append(el('span', 'badge sev-' + sev, t('sev_' + sev)));
    dl.append(sevDd);
    addRow(dl, 'detail_category', str(a.category));
    const mitre = a.metadata && Array.isArray(a.metadata.mitre_technique_id)
      ? a.metadata.mitre_technique_id.map(str).join(', ') : '';
    addRow(dl, 'detail_mitre', mitre, true);
    addRow(dl, 'detail_action', str(a.action));
    addRow(dl, 'detail_agency', agencyOf(ev));
    addRow(dl, 'detail_agent', ev.vigil ? str(ev.vigil.agent_id) +
      (ev.vigil.agent_version ? ' (' + ev.vigil.agent_version + ')' : '') : '');
    addRow(dl, 'detail_host', str(ev.host));
    const ms = parseTime(ev.timestamp);
    addRow(dl, 'detail_time', Number.isFinite(ms) ? fmtTime(ms, true) + ' (' + ev.timestamp + ')' : str(ev.timestamp));
    if (ev.src_ip || ev.dest_ip) {
      addRow(dl, 'detail_flow', endpoint(ev.src_ip, ev.src_port) + ' → ' + endpoint(ev.dest_ip, ev.dest_port), true);
      addRow(dl, 'detail_protocol', [ev.proto, ev.app_proto].filter(Boolean).map(str).join(' / '));
    }
    if (ev.flow && typeof ev.flow === 'object') {
      const f = ev.flow;
      if (f.pkts_toserver !== undefined || f.pkts_toclient !== undefined) {
        addRow(dl, 'detail_packets', fmtNum(f.pkts_toserver) + ' / ' + fmtNum(f.pkts_toclient));
      }
      if (f.bytes_toserver !== undefined || f.bytes_toclient !== undefined) {
        addRow(dl, 'detail_bytes', fmtNum(f.bytes_toserver) + ' / ' + fmtNum(f.bytes_toclient));
      }
    }
    if (ev.geoip && typeof ev.geoip === 'object') {
      addRow(dl, 'detail_src_geo', geoText(ev.geoip.src));
      addRow(dl, 'detail_dest_geo', geoText(ev.geoip.dest));
    }
    const fi = ev.fileinfo && typeof ev.fileinfo === 'object' ? ev.fileinfo : null;
    if (fi) {
      addRow(dl, 'detail_file', str(fi.filename), true);
      if (typeof fi.size === 'number') addRow(dl, 'detail_size', t('bytes_unit', { n: fmtNum(fi.size) }));
      addRow(dl, 'detail_sha256', str(fi.sha256), true);
    }
    addRow(dl, 'detail_event_id', id, true);

    const yara = $('detail-yara');
    yara.replaceChildren();
    if (fi && Array.isArray(fi.yara) && fi.yara.length) yara.append(yaraTable(fi.yara));

    $('detail-json').textContent = JSON.stringify(ev, null, 2);
    $('detail').hidden = false;
    for (const row of document.querySelectorAll('#feed .alert-row.selected')) row.classList.remove('selected');
    for (const row of document.querySelectorAll('#feed .alert-row')) {
      if (row.getAttribute('data-id') === id) row.classList.add('selected');
    }
  }

  function hideDetail() {
    state.selected = null;
    $('detail').hidden = true;
    for (const row of document.querySelectorAll('#feed .alert-row.selected')) row.classList.remove('selected');
  }

  /* ---------- agents ---------- */

  async function loadAgents() {
    try {
      const body = await api('/api/agents');
      state.agents = body && Array.isArray(body.items) ? body.items : [];
      let changed = false;
      for (const a of state.agents) {
        if (a && a.agency && !state.agencies.has(String(a.agency))) {
          state.agencies.add(String(a.agency));
          changed = true;
        }
      }
      if (changed) renderAgencyOptions();
      renderAgents();
      markUpdated();
    } catch (err) {
      noteError(err);
    }
  }

  function renderAgents() {
    const tbody = $('agents');
    const rows = [];
    let online = 0;
    for (const a of state.agents) {
      if (!a || typeof a !== 'object') continue;
      const on = a.online === true;
      if (on) online++;
      const tr = el('tr', 'agent-row');
      tr.setAttribute('data-online', on ? 'true' : 'false');
      tr.setAttribute('data-agent', str(a.agent_id));
      tr.append(el('td', null, str(a.agency)));
      tr.append(el('td', 'mono', str(a.agent_id)));
      tr.append(el('td', null, str(a.host)));
      tr.append(el('td', 'mono', str(a.version)));
      const st = el('td');
      st.append(el('span', 'status ' + (on ? 'status-on' : 'status-off'), t(on ? 'online' : 'offline')));
      tr.append(st);
      const ms = parseTime(a.last_seen);
      const seen = el('td', null, fmtAgo(ms));
      if (Number.isFinite(ms)) seen.setAttribute('title', fmtTime(ms, true));
      tr.append(seen);
      const drops = el('td', 'num', fmtNum(a.capture_drops));
      if (a.capture_drops > 0) drops.classList.add('warn');
      tr.append(drops);
      const spool = el('td', 'num', fmtNum(a.spool_pending));
      if (a.spool_pending > 0) spool.classList.add('warn');
      tr.append(spool);
      rows.push(tr);
    }
    if (rows.length === 0) {
      const tr = el('tr', 'empty');
      const td = el('td', 'muted', t('agents_empty'));
      td.setAttribute('colspan', '8');
      tr.append(td);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    $('agents-summary').textContent = t('agents_summary', {
      online, offline: state.agents.length - online,
    });
  }

  /* ---------- statistics ---------- */

  async function loadStats() {
    try {
      state.stats = await api('/api/stats/timeseries?minutes=60');
      renderStats();
      markUpdated();
    } catch (err) {
      noteError(err);
    }
  }

  function renderTop(list, items, label) {
    const rows = [];
    const max = items.reduce((m, x) => Math.max(m, Number(x && x.count) || 0), 0);
    for (const item of items.slice(0, 10)) {
      if (!item || typeof item !== 'object') continue;
      const li = el('li');
      const name = el('span', 'top-name', label(item));
      name.setAttribute('title', label(item));
      li.append(name);
      li.append(el('span', 'top-count', fmtNum(Number(item.count) || 0)));
      const bar = el('span', 'top-bar');
      /* CSSOM, which the style-src policy allows, unlike style attributes. */
      bar.style.width = (max ? Math.round(100 * (Number(item.count) || 0) / max) : 0) + '%';
      li.append(bar);
      rows.push(li);
    }
    if (rows.length === 0) rows.push(el('li', 'empty muted', t('top_empty')));
    list.replaceChildren(...rows);
  }

  function renderStats() {
    const s = state.stats || {};
    renderTop($('top-signatures'), Array.isArray(s.top_signatures) ? s.top_signatures : [],
      (x) => str(x.signature) || str(x.signature_id));
    renderTop($('top-countries'), Array.isArray(s.top_countries) ? s.top_countries : [],
      (x) => countryName(x.country));
    drawChart(Array.isArray(s.minutes) ? s.minutes : []);
  }

  function drawChart(minutes) {
    const canvas = $('chart');
    const cssW = canvas.clientWidth || 720;
    const cssH = canvas.clientHeight || 200;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);

    const styles = getComputedStyle(document.body);
    const ink = styles.getPropertyValue('--muted').trim() || '#666';
    const grid = styles.getPropertyValue('--grid').trim() || '#ddd';
    const font = '11px ' + (styles.fontFamily || 'sans-serif');
    const left = 36, right = 8, top = 8, bottom = 22;
    const w = cssW - left - right, h = cssH - top - bottom;

    let max = 0, total = 0;
    for (const m of minutes) {
      const n = Number(m && m.total) || 0;
      max = Math.max(max, n);
      total += n;
    }
    $('chart-total').textContent = minutes.length ? t('chart_total', { n: fmtNum(total) }) : '';
    const step = niceStep(max);
    const yMax = Math.max(step * Math.ceil(max / step), step);

    ctx.font = font;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    ctx.lineWidth = 1;
    for (let v = 0; v <= yMax; v += step) {
      const y = Math.round(top + h - (v / yMax) * h) + 0.5;
      ctx.strokeStyle = grid;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + w, y);
      ctx.stroke();
      ctx.fillStyle = ink;
      ctx.fillText(String(v), left - 6, y);
    }

    if (!minutes.length || total === 0) {
      ctx.textAlign = 'center';
      ctx.fillStyle = ink;
      ctx.fillText(t('chart_empty'), left + w / 2, top + h / 2);
    }
    const n = Math.max(minutes.length, 1);
    const slot = w / n;
    const barW = Math.max(1, slot - (slot > 4 ? 2 : 0));
    minutes.forEach((m, i) => {
      let y = top + h;
      const bs = (m && m.by_severity) || {};
      for (const sev of [4, 3, 2, 1]) {
        const c = Number(bs[String(sev)]) || 0;
        if (!c) continue;
        const bh = (c / yMax) * h;
        ctx.fillStyle = SEV_COLORS[sev];
        ctx.fillRect(left + i * slot + (slot - barW) / 2, y - bh, barW, bh);
        y -= bh;
      }
      const known = [1, 2, 3, 4].reduce((acc, k) => acc + (Number(bs[String(k)]) || 0), 0);
      const rest = (Number(m && m.total) || 0) - known;
      if (rest > 0) {
        const bh = (rest / yMax) * h;
        ctx.fillStyle = SEV_COLORS[4];
        ctx.fillRect(left + i * slot + (slot - barW) / 2, y - bh, barW, bh);
      }
    });

    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillStyle = ink;
    const hm = new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', hour12: false });
    minutes.forEach((m, i) => {
      const ms = parseTime(m && m.t);
      if (!Number.isFinite(ms)) return;
      const d = new Date(ms);
      if (d.getMinutes() % 10 !== 0) return;
      const label = hm.format(d);
      const half = ctx.measureText(label).width / 2;
      const x = Math.min(Math.max(left + i * slot + slot / 2, left + half), left + w - half);
      ctx.fillText(label, x, top + h + 6);
    });
  }

  function niceStep(max) {
    if (max <= 5) return 1;
    const raw = max / 4;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const k of [1, 2, 5, 10]) if (raw <= k * p) return k * p;
    return 10 * p;
  }

  /* ---------- live stream ---------- */

  function setConn(open) {
    const c = $('conn');
    c.setAttribute('data-state', open ? 'open' : 'closed');
    $('conn-text').textContent = t(open ? 'conn_open' : 'conn_closed');
    c.setAttribute('title', t(open ? 'conn_title_open' : 'conn_title_closed'));
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    if (state.source) state.source.close();
    const url = '/api/stream' + (state.token ? '?token=' + encodeURIComponent(state.token) : '');
    const es = new EventSource(url);
    state.source = es;
    es.onopen = () => {
      setConn(true);
      if (state.wasOpen) loadAlerts(); /* fill what the outage missed */
      state.wasOpen = true;
    };
    es.addEventListener('alert', (msg) => {
      let ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      if (!ev || typeof ev !== 'object' || Array.isArray(ev)) return;
      if (addEvent(ev)) {
        sortEvents();
        queueRender();
      }
    });
    es.onerror = () => {
      setConn(false);
      /* The browser retries by itself unless the answer was not a stream
       * (a 401 or a 5xx); then try again later ourselves. */
      if (es.readyState === EventSource.CLOSED) {
        state.reconnectTimer = setTimeout(connect, 5000);
      }
    };
  }

  /* ---------- wiring ---------- */

  function readFilters() {
    state.filters.agency = $('filter-agency').value;
    state.filters.severity = $('filter-severity').value;
    state.filters.type = $('filter-type').value;
    state.filters.q = $('filter-text').value.trim();
  }

  let textTimer = null;
  function onFilter(immediate) {
    readFilters();
    renderFeed();
    clearTimeout(textTimer);
    textTimer = setTimeout(loadAlerts, immediate ? 0 : 300);
  }

  function openRow(target) {
    const row = target.closest('.alert-row');
    if (row) showDetail(row.getAttribute('data-id'));
  }

  function init() {
    state.token = readToken();
    $('lang').addEventListener('change', (e) => applyLanguage(e.target.value));
    for (const id of ['filter-agency', 'filter-severity', 'filter-type']) {
      $(id).addEventListener('change', () => onFilter(true));
    }
    $('filter-text').addEventListener('input', () => onFilter(false));
    $('filters').addEventListener('submit', (e) => e.preventDefault());
    $('filters').addEventListener('reset', () => setTimeout(() => onFilter(true), 0));
    $('feed').addEventListener('click', (e) => openRow(e.target));
    $('feed').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        openRow(e.target);
      }
    });
    $('detail-close').addEventListener('click', hideDetail);
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideDetail(); });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(renderStats, 150);
    });

    applyLanguage(pickLanguage());
    loadAlerts().then(connect);
    loadAgents();
    loadStats();
    setInterval(() => {
      loadAgents();
      loadStats();
    }, REFRESH_MS);
  }

  document.addEventListener('DOMContentLoaded', init);
})();
