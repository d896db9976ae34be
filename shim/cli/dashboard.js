/* dashboard.js - the recloser dashboard's page (served as /app.js).
 *
 * Polls the dashboard once a second: /api/dash for the table, or
 * /api/breaker?name=NAME for one breaker's view (/breaker/NAME).  Every
 * string from the server (breaker names, settings, log lines, messages)
 * goes into the page as text (textContent), never as markup.  Changes are
 * POSTs with the token of the URL printed at start (?token=..., kept in
 * this tab's sessionStorage and taken off the address bar). */
'use strict';

const $ = (id) => document.getElementById(id);
const STATES = ['closed', 'half_open', 'open', 'forced_closed', 'forced_open'];
const FLIPS = ['open', 'close', 'half-open', 'force-open', 'force-close'];

let token = null;
{
  const q = new URLSearchParams(location.search);
  if (q.get('token')) {
    sessionStorage.setItem('recloser-token', q.get('token'));
    history.replaceState(null, '', location.pathname);
  }
  token = sessionStorage.getItem('recloser-token');
}

let readOnly = false;
const detailName = location.pathname.startsWith('/breaker/')
  ? decodeURIComponent(location.pathname.slice(9)) : null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function fmtUs(us) {
  if (us === undefined || us === null) return '–';
  if (us < 0) return '> 10 s';
  if (us === 0) return '–';
  if (us < 1000) return us + ' µs';
  if (us < 1000000) return (us / 1000).toFixed(us < 10000 ? 2 : 1) + ' ms';
  return (us / 1000000).toFixed(2) + ' s';
}

function fmtAge(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h' + String(Math.floor(s / 60) % 60).padStart(2, '0') + 'm';
  return Math.floor(s / 86400) + 'd' + Math.floor(s / 3600) % 24 + 'h';
}

function fmtNum(x) {
  if (x === null || x === undefined) return '–';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function stateBadge(node, state) {
  node.className = 'state st-' + state;
  node.textContent = state;
}

function setLive(ok, text) {
  const l = $('live');
  l.textContent = text;
  l.classList.toggle('stale', !ok);
}

function banner(text) {
  const b = $('banner');
  b.hidden = !text;
  b.textContent = text || '';
}

/* ---- changes ---- */

async function post(path, fields) {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded',
               'X-Recloser-Token': token || '' },
    body: new URLSearchParams(fields),
  });
  let j;
  try { j = await r.json(); } catch (e) { j = { ok: false, message: 'HTTP ' + r.status }; }
  return j;
}

let pending = null;
function confirmThen(text, fn) {
  pending = fn;
  $('confirm-text').textContent = text;
  $('confirm').showModal();
}
$('confirm-cancel').addEventListener('click', () => { pending = null; $('confirm').close(); });
$('confirm-ok').addEventListener('click', () => {
  const fn = pending;
  pending = null;
  $('confirm').close();
  if (fn) fn();
});

function flipButtons(parent, name) {
  for (const to of FLIPS) {
    const b = el('button', null, to);
    b.type = 'button';
    b.dataset.name = name;
    b.dataset.to = to;
    b.addEventListener('click', () => confirmThen(
      `${to} breaker '${name}'? Every process using it sees this at its next call.`,
      async () => {
        const j = await post('/api/flip', { name, to });
        banner(j.ok ? '' : j.message);
        refresh();
      }));
    parent.appendChild(b);
  }
}

function showChanges() {
  const can = !readOnly && !!token;
  for (const n of document.querySelectorAll('.changes, td.act, th.act'))
    n.hidden = !can;
  const badge = $('mode-badge');
  badge.hidden = can;
  badge.textContent = readOnly ? 'read-only' : 'no token: open the URL recloser dashboard printed to make changes';
}

$('add-button').addEventListener('click', async () => {
  const res = $('add-result');
  const j = await post('/api/add', {
    name: $('add-name').value, match: $('add-match').value,
    settings: $('add-settings').value,
  });
  res.hidden = false;
  res.className = j.ok ? 'ok' : 'error';
  res.textContent = j.message;
  if (j.ok) refresh();
});

/* ---- the table ---- */

const rows = new Map();
const sparkOpts = {
  responsive: false, animation: false, events: [],
  plugins: { legend: { display: false }, tooltip: { enabled: false } },
  layout: { padding: 2 },
  elements: { point: { radius: 1, borderWidth: 0 }, line: { borderWidth: 1.5 } },
  scales: { x: { display: false }, y: { display: false, beginAtZero: true, suggestedMax: 1 } },
};

function makeRow(b) {
  const tr = el('tr');
  tr.dataset.name = b.name;
  const c = {};
  const name = el('td');
  const a = el('a', null, b.name);
  a.href = '/breaker/' + encodeURIComponent(b.name);
  name.appendChild(a);
  tr.appendChild(name);
  c.state = el('span');
  const st = el('td');
  st.appendChild(c.state);
  tr.appendChild(st);
  for (const k of ['mode', 'calls_s', 'fail_pct', 'rej_s', 'p50', 'p99', 'since']) {
    c[k] = el('td', k === 'mode' ? null : 'n');
    tr.appendChild(c[k]);
  }
  const sp = el('td');
  const canvas = el('canvas', 'spark');
  canvas.width = 180;
  canvas.height = 28;
  sp.appendChild(canvas);
  tr.appendChild(sp);
  const act = el('td', 'act');
  flipButtons(act, b.name);
  tr.appendChild(act);
  c.chart = new Chart(canvas, {
    type: 'line',
    data: { labels: b.spark.map((_, i) => i), datasets: [
      { data: b.spark, borderColor: '#4a6fa5', backgroundColor: '#4a6fa5', fill: false },
      { data: b.spark_fail, borderColor: '#d43d3d', backgroundColor: '#d43d3d', fill: false },
      { data: b.spark_rej, borderColor: '#999', backgroundColor: '#999', fill: false, borderDash: [3, 2] },
    ] },
    options: sparkOpts,
  });
  return { tr, c };
}

function updateRow(r, b) {
  const c = r.c;
  r.tr.classList.toggle('recent', !!b.recent);
  stateBadge(c.state, b.state);
  c.mode.textContent = b.mode;
  c.calls_s.textContent = fmtNum(b.calls_s);
  c.fail_pct.textContent = b.fail_pct === null || b.fail_pct === undefined ? '–' : fmtNum(b.fail_pct);
  c.rej_s.textContent = fmtNum(b.rej_s);
  if (b.rej_by)
    c.rej_s.title = `open ${fmtNum(b.rej_by.open)}/s, bulkhead ${fmtNum(b.rej_by.bulkhead)}/s` +
      (b.max_concurrent ? `; in flight ${b.in_flight}/${b.max_concurrent}` : '');
  c.p50.textContent = fmtUs(b.p50_us);
  c.p99.textContent = fmtUs(b.p99_us);
  c.since.textContent = b.in_state_ms === undefined ? '–' : fmtAge(b.in_state_ms);
  if (b.spark) {
    c.chart.data.labels = b.spark.map((_, i) => i);
    c.chart.data.datasets[0].data = b.spark;
    c.chart.data.datasets[1].data = b.spark_fail;
    c.chart.data.datasets[2].data = b.spark_rej;
    c.chart.update('none');
  }
}

function renderOverview(d) {
  $('where').textContent = d.config;
  banner(d.config_error ? 'The config no longer loads; still showing it as it was:\n' + d.config_error : '');
  const body = document.querySelector('#breakers tbody');
  const seen = new Set();
  d.breakers.forEach((b, i) => {
    seen.add(b.name);
    let r = rows.get(b.name);
    if (!r) { r = makeRow(b); rows.set(b.name, r); }
    if (body.children[i] !== r.tr) body.insertBefore(r.tr, body.children[i] || null);
    updateRow(r, b);
  });
  for (const [name, r] of rows)
    if (!seen.has(name)) { r.c.chart.destroy(); r.tr.remove(); rows.delete(name); }
  showChanges();
}

/* ---- one breaker ---- */

let charts = null;
function lineOpts(extra) {
  return Object.assign({
    responsive: true, maintainAspectRatio: false, animation: false,
    interaction: { mode: 'index', intersect: false },
    elements: { point: { radius: 0 } },
    scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } },
  }, extra || {});
}

function makeCharts() {
  const ds = (label, color, extra) => Object.assign({ label, data: [], borderColor: color,
    backgroundColor: color, borderWidth: 1.5 }, extra || {});
  return {
    calls: new Chart($('c-calls'), { type: 'line', data: { labels: [], datasets: [
      ds('success', '#2e8b57'), ds('failure', '#d43d3d'), ds('rejected', '#888') ] },
      options: lineOpts() }),
    lat: new Chart($('c-lat'), { type: 'line', data: { labels: [], datasets: [
      ds('p50', '#4a6fa5', { spanGaps: false }), ds('p99', '#e07b00', { spanGaps: false }) ] },
      options: lineOpts() }),
    state: new Chart($('c-state'), { type: 'line', data: { labels: [], datasets: [
      ds('state', '#1d2330', { stepped: true }) ] },
      options: lineOpts({ scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { min: 0, max: 4,
        ticks: { stepSize: 1, callback: (v) => STATES[v] || '' } } },
        plugins: { legend: { display: false } } }) }),
  };
}

function renderDetail(d) {
  $('where').textContent = d.config;
  $('d-name').textContent = d.name;
  stateBadge($('d-state'), d.state);
  $('d-since').textContent = d.in_state_ms === undefined ? '' :
    `for ${fmtAge(d.in_state_ms)} · ${fmtNum(d.calls_s || 0)} calls/s · ` +
    `p50 ${fmtUs(d.p50_us)} · p99 ${fmtUs(d.p99_us)}`;
  readOnly = d.read_only;
  if (!$('d-flips').children.length) flipButtons($('d-flips'), d.name);
  if (!charts) charts = makeCharts();
  const labels = d.points.map((p) => new Date(p[0] * 1000).toLocaleTimeString([], { hour12: false }));
  const ms = (us) => (us === 0 ? null : us < 0 ? 10000 : us / 1000);
  charts.calls.data.labels = labels;
  charts.calls.data.datasets[0].data = d.points.map((p) => p[1] - p[2]);
  charts.calls.data.datasets[1].data = d.points.map((p) => p[2]);
  charts.calls.data.datasets[2].data = d.points.map((p) => p[3]);
  charts.lat.data.labels = labels;
  charts.lat.data.datasets[0].data = d.points.map((p) => ms(p[4]));
  charts.lat.data.datasets[1].data = d.points.map((p) => ms(p[5]));
  charts.state.data.labels = labels;
  charts.state.data.datasets[0].data = d.points.map((p) => STATES.indexOf(p[6]));
  for (const c of Object.values(charts)) c.update('none');

  const sb = document.querySelector('#d-settings tbody');
  sb.replaceChildren(...d.settings.map((s) => {
    const tr = el('tr');
    tr.appendChild(el('td', null, s.key));
    tr.appendChild(el('td', 'from-' + s.from, s.value === '' ? '(empty)' : s.value));
    tr.appendChild(el('td', null, s.from === 'section' ? `[${d.name}]` : s.from === 'global' ? '[global]' : 'built-in default'));
    return tr;
  }));
  const log = $('d-log');
  log.replaceChildren(...(d.log.length ? d.log.slice().reverse().map((l) => el('li', null, l))
    : [el('li', null, '(none in the last 256 KiB of the log)')]));
  showChanges();
}

/* ---- polling ---- */

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const url = detailName ? '/api/breaker?name=' + encodeURIComponent(detailName) : '/api/dash';
    const r = await fetch(url, { cache: 'no-store' });
    if (r.status === 404 && detailName) {
      banner(`No breaker '${detailName}' in the config.`);
      setLive(false, 'no such breaker');
    } else {
      const d = await r.json();
      if (detailName) renderDetail(d);
      else { readOnly = d.read_only; renderOverview(d); }
      setLive(true, 'live · ' + new Date().toLocaleTimeString([], { hour12: false }));
    }
  } catch (e) {
    setLive(false, 'dashboard unreachable');
  }
  timer = setTimeout(refresh, 1000);
}

$(detailName ? 'detail' : 'overview').hidden = false;
refresh();
