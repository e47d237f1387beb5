// The observatory's web UI: jobs, a trace waterfall, trends, the freshness
// board, insights (insights.js) and backup plans, over the JSON API (docs/api.md). No framework and
// no network beyond this server: uPlot draws the charts.
'use strict';

const $main = document.getElementById('main');
let refreshTimer = null;
let charts = [];

// ---- helpers ---------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// With access control on, every API call carries the bearer token the user
// pasted (kept for this browser tab only); a 401 asks for one.
const TOKEN_KEY = 'backspan-token';

class SignInNeeded extends Error {}

// `lines`: the answer is JSON lines (the feature export), as an array.
async function api(path, {method = 'GET', body, lines = false} = {}) {
  const headers = {Accept: 'application/json'};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, {method, headers, body: method === 'GET' ? undefined : (body || '')});
  if (lines && res.ok) return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const answer = await res.json().catch(() => ({error: res.statusText}));
  if (res.status === 401) throw new SignInNeeded(answer.error || 'a token is needed');
  if (!res.ok) throw new Error(answer.error || res.statusText);
  return answer;
}

function signInPage(reason) {
  const input = h('textarea', {rows: 6, cols: 80, 'data-testid': 'token-input', placeholder: 'eyJhbGciOi...'});
  const form = h('form', {class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    route();
  }}, input, h('button', {type: 'submit', 'data-testid': 'token-submit'}, 'Sign in'));
  $main.replaceChildren(
    h('h1', {}, 'Sign in'),
    h('p', {}, 'This observatory needs an access token from its identity provider. Paste one here, e.g. from ',
      h('code', {}, 'az account get-access-token --resource <app id>'), ' or your provider\'s CLI. It stays in this tab.'),
    sessionStorage.getItem(TOKEN_KEY) ? h('p', {class: 'error', 'data-testid': 'signin-error'}, `The token was refused: ${reason}`) : '',
    form);
}

function bytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function duration(ms) {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}

function ago(iso) {
  if (!iso) return 'never';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 90) return `${Math.max(0, Math.round(s))} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function localTime(iso) {
  const d = new Date(iso);
  return d.toLocaleString(undefined, {hour12: false});
}

// Tags worth a column: the user's own, not what every job of a source carries.
function shownTag(k) {
  if (['service.name', 'service.version', 'os.type', 'host.name', 'azure.resource_group.name', 'error.type'].includes(k)) return false;
  if (k === 'azure.backup.vault.name') return true;
  return !['backspan.', 'cicd.', 'cloud.', 'azure.'].some((p) => k.startsWith(p));
}

function badge(status) {
  return h('span', {class: `badge ${status}`, text: status});
}

function params() {
  const q = location.hash.split('?')[1] || '';
  return new URLSearchParams(q);
}

function setParams(page, p) {
  const s = p.toString();
  location.hash = `#/${page}${s ? '?' + s : ''}`;
}

function showError(err) {
  $main.replaceChildren(h('div', {class: 'error', role: 'alert', text: `Could not load: ${err.message}`}));
}

function stamp() {
  document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString(undefined, {hour12: false})}`;
}

// ---- jobs ------------------------------------------------------------------

async function jobsPage() {
  const p = params();
  const [data, tags] = await Promise.all([api(`/api/v1/jobs?${apiJobParams(p)}`), api('/api/v1/tags')]);
  const tagOptions = h('datalist', {id: 'tag-options'},
    Object.entries(tags.tags).flatMap(([k, vs]) => vs.map((v) => h('option', {value: `${k}=${v}`}))));
  const form = h('form', {class: 'filters', 'data-testid': 'job-filters', onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const next = new URLSearchParams();
    for (const [k, v] of f.entries()) if (v) next.append(k, v);
    setParams('jobs', next);
  }},
  h('label', {}, 'Tag ', h('input', {name: 'tag', list: 'tag-options', placeholder: 'key=value', value: p.get('tag') || '', 'data-testid': 'filter-tag'})),
  h('label', {}, 'Status ', h('select', {name: 'status', 'data-testid': 'filter-status'},
    ['', 'ok', 'partial', 'failed', 'interrupted', 'running', 'lost'].map((s) => h('option', {value: s, selected: p.get('status') === s, text: s || 'any'})))),
  h('label', {}, 'Kind ', h('input', {name: 'kind', placeholder: 'backup', value: p.get('kind') || '', size: 8})),
  h('label', {}, 'Error text ', h('input', {name: 'q', value: p.get('q') || '', size: 14})),
  h('button', {type: 'submit'}, 'Filter'),
  tagOptions);

  const rows = data.jobs.map((j) => h('tr', {class: j.status, 'data-testid': 'job-row'},
    h('td', {}, badge(j.status)),
    h('td', {}, h('a', {href: `#/trace/${j.trace_id}`}, j.name)),
    h('td', {title: j.start_time}, localTime(j.start_time)),
    h('td', {class: 'num'}, duration(j.duration_ms), j.status === 'running' || j.status === 'lost' ? h('span', {class: 'muted'}, ` (update ${ago(j.last_update)})`) : null),
    h('td', {}, j.host),
    h('td', {}, j.resource_group),
    h('td', {class: 'num'}, j.kind === 'backup' ? bytes(j.bytes_added) : ''),
    h('td', {'data-testid': 'job-source'}, j.service),
    h('td', {class: 'tags'}, Object.entries(j.tags).filter(([k]) => shownTag(k))
      .map(([k, v]) => h('a', {class: 'tag', href: `#/jobs?tag=${encodeURIComponent(k + '=' + v)}`}, `${k}=${v}`))),
    h('td', {class: 'err', title: j.error_message}, j.error_message)));
  const table = h('table', {class: 'jobs', 'data-testid': 'jobs-table'},
    h('thead', {}, h('tr', {}, ['Status', 'Job', 'Started', 'Duration', 'Host', 'Resource group', 'Added', 'Source', 'Tags', 'Error'].map((t) => h('th', {text: t})))),
    h('tbody', {}, rows));
  const more = data.next ? h('a', {href: '#', onclick: (e) => {
    e.preventDefault();
    p.set('before', data.next);
    setParams('jobs', p);
  }}, 'Older jobs →') : null;
  $main.replaceChildren(h('h1', {}, 'Jobs'), form,
    data.jobs.length ? table : h('p', {class: 'muted', 'data-testid': 'no-jobs'}, 'No jobs match.'), more || '');
  refreshTimer = setTimeout(route, 10000);
}

function apiJobParams(p) {
  const out = new URLSearchParams();
  for (const k of ['tag', 'status', 'kind', 'q', 'before', 'host', 'since', 'until']) for (const v of p.getAll(k)) if (v) out.append(k, v);
  out.set('limit', '100');
  return out.toString();
}

// ---- trace waterfall -----------------------------------------------------------

function spanTree(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, {span: s, children: []}]));
  const roots = [];
  for (const node of byId.values()) {
    const parent = byId.get(node.span.parent_span_id);
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const out = [];
  const visit = (n, depth) => {
    out.push({span: n.span, depth});
    n.children.sort((a, b) => Number(BigInt(a.span.start_time_unix_nano) - BigInt(b.span.start_time_unix_nano)));
    n.children.forEach((c) => visit(c, depth + 1));
  };
  roots.forEach((r) => visit(r, 0));
  return out;
}

function attrTable(title, attrs) {
  const entries = Object.entries(attrs || {});
  if (!entries.length) return null;
  return h('div', {}, h('h3', {text: title}), h('table', {class: 'attrs'},
    h('tbody', {}, entries.map(([k, v]) => h('tr', {}, h('th', {text: k}), h('td', {text: typeof v === 'object' ? JSON.stringify(v) : String(v)}))))));
}

async function tracePage(id) {
  const data = await api(`/api/v1/traces/${encodeURIComponent(id)}`);
  const rows = spanTree(data.spans);
  const ns = (s) => BigInt(s);
  const t0 = rows.reduce((m, r) => (ns(r.span.start_time_unix_nano) < m ? ns(r.span.start_time_unix_nano) : m), ns(rows[0].span.start_time_unix_nano));
  const endOf = (s) => (s.in_progress || ns(s.end_time_unix_nano) < ns(s.start_time_unix_nano) ? BigInt(Date.now()) * 1000000n : ns(s.end_time_unix_nano));
  const t1 = rows.reduce((m, r) => (endOf(r.span) > m ? endOf(r.span) : m), t0 + 1n);
  const total = Number(t1 - t0);
  const pct = (t) => `${(Number(t - t0) / total * 100).toFixed(3)}%`;
  const detail = h('aside', {class: 'detail', 'data-testid': 'span-detail'}, h('p', {class: 'muted'}, 'Click a span to see its attributes.'));
  const root = rows[0].span;

  const showSpan = (s) => {
    detail.replaceChildren(...[
      h('h2', {text: s.name}),
      h('p', {}, badge(s.status.code === 'ERROR' ? 'failed' : s.in_progress ? 'running' : 'ok'), ' ', duration(s.duration_ms),
        s.status.message ? h('span', {class: 'err'}, ' ' + s.status.message) : null),
      h('p', {class: 'muted mono'}, `span ${s.span_id}`),
      attrTable('Attributes', s.attributes),
      s.events.length ? h('div', {}, h('h3', {text: 'Events'}), h('ul', {class: 'events'}, s.events.map((e) =>
        h('li', {}, h('b', {text: e.name}), ' +', duration(Number(ns(e.time_unix_nano) - ns(s.start_time_unix_nano)) / 1e6),
          attrTable('', e.attributes))))) : null,
      attrTable('Resource', s.resource)].filter(Boolean));
  };

  const axis = h('div', {class: 'axis'}, [0, 0.25, 0.5, 0.75, 1].map((f) =>
    h('span', {style: `left:${f * 100}%`}, duration(total * f / 1e6))));
  const bars = rows.map(({span: s, depth}) => {
    const failed = s.status.code === 'ERROR';
    const bar = h('div', {class: `bar${failed ? ' error' : ''}${s.in_progress ? ' running' : ''}`,
      style: `left:${pct(ns(s.start_time_unix_nano))};width:max(2px,calc(${pct(endOf(s))} - ${pct(ns(s.start_time_unix_nano))}))`});
    const markers = s.events.map((e) => h('div', {class: `marker${e.name === 'exception' || e.name === 'anomaly' ? ' error' : ''}`, title: e.name,
      'data-testid': 'event-marker', style: `left:${pct(ns(e.time_unix_nano))}`}));
    return h('div', {class: `span-row${failed ? ' error' : ''}`, 'data-testid': 'span-row', tabindex: 0,
      onclick: () => showSpan(s), onkeydown: (e) => { if (e.key === 'Enter') showSpan(s); }},
      h('div', {class: 'span-name', style: `padding-left:${depth * 14 + 6}px`, title: s.name}, s.name),
      h('div', {class: 'span-dur num'}, duration(s.duration_ms)),
      h('div', {class: 'track'}, bar, markers));
  });
  $main.replaceChildren(...[
    h('p', {}, h('a', {href: '#/jobs'}, '← Jobs')),
    h('h1', {}, `${root.name} `, badge(root.status.code === 'ERROR' ? 'failed' : root.in_progress ? 'running' : 'ok')),
    h('p', {class: 'muted mono'}, `trace ${data.trace_id} · ${rows.length} spans · ${localTime(new Date(Number(t0 / 1000000n)).toISOString())}`),
    root.in_progress ? progressLine(root.attributes) : null,
    anomalyBanner(data.spans),
    h('div', {class: 'trace-layout'},
      h('div', {class: 'waterfall', 'data-testid': 'waterfall'}, h('div', {class: 'span-row head'}, h('div', {class: 'span-name'}, 'Span'), h('div', {class: 'span-dur'}, 'Duration'), axis), bars),
      detail)].filter(Boolean));
  showSpan(root);
  if (rows.some((r) => r.span.in_progress)) refreshTimer = setTimeout(route, 5000);
}

// How far a running job got, from its snapshot's backspan.progress.* attributes.
function progressLine(a) {
  const n = (k) => Number(a[`backspan.progress.${k}`] ?? 0);
  if (a['backspan.progress.files_done'] === undefined) return null;
  const final = a['backspan.progress.scan_done'] === true;
  const share = final && n('bytes_total') > 0 ? ` (${(n('bytes_done') / n('bytes_total') * 100).toFixed(1)}%)` : '';
  return h('p', {'data-testid': 'job-progress'},
    `${n('files_done')} of ${n('files_total')}${final ? '' : '+'} files, ${bytes(n('bytes_done'))} of ${bytes(n('bytes_total'))}${share}`,
    n('errors') ? h('span', {class: 'err'}, ` · ${n('errors')} unreadable`) : null);
}

// ---- trends ------------------------------------------------------------------

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

// `marks`: instants (unix seconds) drawn as thin vertical lines: anomalies.
function chart(el, title, buckets, series, format, marks = []) {
  const data = [buckets, ...series.map((s) => s.values)];
  const drawMarks = (u) => {
    const {ctx, bbox} = u;
    ctx.save();
    ctx.strokeStyle = 'rgba(220, 38, 38, 0.55)';
    ctx.lineWidth = 1;
    for (const t of marks) {
      const x = Math.round(u.valToPos(t, 'x', true)) + 0.5;
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  };
  const opts = {
    title, width: Math.min(el.clientWidth || 900, 1100), height: 240, hooks: {draw: [drawMarks]},
    scales: {x: {time: true}},
    axes: [{}, {values: (u, vals) => vals.map(format), size: 80}],
    series: [{}, ...series.map((s, i) => ({label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, dash: s.dash, spanGaps: true,
      value: (u, v) => (v === null || v === undefined ? '–' : format(v))}))],
  };
  charts.push(new uPlot(opts, data, el));
}

async function trendsPage() {
  const p = params();
  const groupBy = p.has('group_by') ? p.get('group_by') : 'azure.resource_group.name';
  const range = p.get('range') || '7d';
  const bucket = p.get('bucket') || (range === '2d' ? 'hour' : 'day');
  const kind = p.has('kind') ? p.get('kind') : 'backup';
  const q = (metric) => `/api/v1/trends?metric=${metric}&bucket=${bucket}&since=${range}&group_by=${encodeURIComponent(groupBy)}&kind=${encodeURIComponent(kind)}`;
  const [dur, thr, added, fail, tags, found] = await Promise.all([api(q('duration')), api(q('throughput')), api(q('bytes_added')), api(q('failures')), api('/api/v1/tags'),
    api(`/api/v1/anomalies?since=${range}&limit=2000`)]);
  // Anomalies as markers, each on the chart of what it is about.
  const marks = (...kinds) => found.anomalies.filter((a) => kinds.includes(a.kind)).map((a) => Date.parse(a.time) / 1000);
  const form = h('form', {class: 'filters', onchange: () => {
    const f = new FormData(form);
    setParams('trends', new URLSearchParams([...f.entries()]));
  }, onsubmit: (e) => e.preventDefault()},
  h('label', {}, 'Group by ', h('select', {name: 'group_by', 'data-testid': 'group-by'},
    [h('option', {value: '', text: '(none)'}), ...Object.keys(tags.tags).map((k) => h('option', {value: k, selected: k === groupBy, text: k}))])),
  h('label', {}, 'Range ', h('select', {name: 'range'}, ['2d', '7d', '30d', '90d'].map((r) => h('option', {value: r, selected: r === range, text: r})))),
  h('label', {}, 'Bucket ', h('select', {name: 'bucket'}, ['hour', 'day'].map((b) => h('option', {value: b, selected: b === bucket, text: b})))),
  h('label', {}, 'Kind ', h('input', {name: 'kind', value: kind, size: 8})));
  const boxes = [1, 2, 3, 4].map(() => h('div', {class: 'chart', 'data-testid': 'trend-chart'}));
  $main.replaceChildren(h('h1', {}, 'Trends'), form,
    found.anomalies.length ? h('p', {class: 'muted', 'data-testid': 'trend-anomalies'}, `Red lines: ${found.anomalies.length === 1 ? 'the anomaly' : `the ${found.anomalies.length} anomalies`} in this range (Insights lists them).`) : '',
    h('div', {class: 'charts'}, boxes));
  const name = (g) => g || 'all';
  chart(boxes[0], 'Duration p50 / p95', dur.buckets,
    dur.series.flatMap((s) => [{label: `${name(s.group)} p50`, values: s.p50}, {label: `${name(s.group)} p95`, values: s.p95, dash: [6, 4]}]),
    (v) => duration(v * 1000), marks('duration', 'phase'));
  chart(boxes[1], 'Throughput', thr.buckets, thr.series.map((s) => ({label: name(s.group), values: s.values})), (v) => `${bytes(v)}/s`, marks('throughput'));
  chart(boxes[2], 'Bytes added', added.buckets, added.series.map((s) => ({label: name(s.group), values: s.values})), bytes, marks('change'));
  chart(boxes[3], 'Failures', fail.buckets, fail.series.map((s) => ({label: name(s.group), values: s.values})), (v) => String(Math.round(v)), marks('failures'));
}

// ---- freshness -----------------------------------------------------------------

async function freshnessPage() {
  const data = await api('/api/v1/freshness');
  const notice = h('div', {'data-testid': 'freshness-notice'});
  const backupNow = async (s) => {
    const {agent, policy} = s.schedule;
    try {
      const r = await api(`/api/v1/agents/${encodeURIComponent(agent)}/policies/${encodeURIComponent(policy)}/backup`, {method: 'POST', body: '{}'});
      notice.replaceChildren(h('p', {class: 'muted', 'data-testid': 'backup-requested'}, `Backup of ${policy} requested from agent ${agent} (request ${r.id}); it starts when the agent next asks.`));
    } catch (err) {
      if (err instanceof SignInNeeded) return route();
      notice.replaceChildren(h('div', {class: 'error', role: 'alert', 'data-testid': 'backup-refused', text: `Back up now refused: ${err.message}`}));
    }
  };
  const restoreNow = async (s) => {
    const {agent, policy} = s.schedule;
    try {
      const r = await api(`/api/v1/agents/${encodeURIComponent(agent)}/policies/${encodeURIComponent(policy)}/restore`, {method: 'POST', body: '{"snapshot": "latest"}'});
      notice.replaceChildren(h('p', {class: 'muted', 'data-testid': 'restore-requested'}, `Restore of ${policy}'s latest snapshot requested from agent ${agent}, into ${r.target} below its restore root (request ${r.id}).`));
    } catch (err) {
      if (err instanceof SignInNeeded) return route();
      notice.replaceChildren(h('div', {class: 'error', role: 'alert', 'data-testid': 'backup-refused', text: `Restore refused: ${err.message}`}));
    }
  };
  const colour = {ok: 'green', running: 'green', late: 'amber', failing: 'amber', overdue: 'red', paused: 'grey'};
  const rows = data.sources.map((s) => h('tr', {class: s.overdue ? 'overdue' : 'fresh', 'data-testid': 'source-row',
    'data-overdue': s.overdue ? 'true' : 'false', 'data-state': s.state},
  h('td', {}, h('span', {class: `dot ${colour[s.state] || 'green'}`}), ` ${s.state}`),
  h('td', {}, s.host),
  h('td', {class: 'mono'}, s.paths),
  h('td', {}, s.resource_group),
  h('td', {title: s.last_success}, ago(s.last_success)),
  h('td', {}, s.last_trace_id ? h('a', {href: `#/trace/${s.last_trace_id}`}, badge(s.last_status)) : badge(s.last_status)),
  h('td', {}, s.schedule ? h('span', {title: `agent ${s.schedule.agent}${s.schedule.agent_up ? '' : ' (not heard from)'}`},
    h('code', {}, s.schedule.cron), ` ${s.schedule.timezone}`, s.schedule.agent_up ? '' : h('span', {class: 'badge failed'}, 'agent down'))
    : (s.expected_interval_seconds ? `learned: every ${duration(s.expected_interval_seconds * 1000)}` : 'learning')),
  h('td', {title: s.schedule ? s.schedule.expected_by : ''}, s.schedule && s.schedule.expected_by ? localTime(s.schedule.expected_by) : duration(s.overdue_after_seconds * 1000)),
  h('td', {class: 'num'}, `${s.jobs} (${s.failed} failed)`),
  h('td', {class: 'actions'}, s.schedule ? h('button', {'data-testid': 'backup-now', onclick: () => backupNow(s)}, 'Back up now') : null,
    s.schedule && s.schedule.restores ? h('button', {'data-testid': 'restore-now', onclick: () => restoreNow(s)}, 'Restore latest') : null)));
  const states = data.states || {};
  $main.replaceChildren(
    h('h1', {}, 'Freshness ', data.overdue ? h('span', {class: 'badge failed', 'data-testid': 'overdue-count'}, `${data.overdue} overdue`) : h('span', {class: 'badge ok'}, 'all fresh')),
    h('p', {class: 'muted', 'data-testid': 'state-counts'}, Object.entries(states).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(' · ')),
    h('p', {class: 'muted'}, 'A source is what one schedule backs up: the same host, paths and tags. With an agent, its declared schedule says when the next success is due; late is past its window, overdue past the grace too. Without one, the usual interval is learned.'),
    notice,
    data.sources.length ? h('table', {class: 'jobs', 'data-testid': 'freshness-table'},
      h('thead', {}, h('tr', {}, ['State', 'Host', 'Paths', 'Resource group', 'Last success', 'Last job', 'Schedule', 'Due by', 'Jobs', ''].map((t) => h('th', {text: t})))),
      h('tbody', {}, rows)) : h('p', {class: 'muted'}, 'No backups reported yet.'));
  refreshTimer = setTimeout(route, 30000);
}

// ---- plans: jobs the observatory runs ---------------------------------------------

async function plansPage() {
  let plans;
  try {
    plans = (await api('/api/v1/plans')).plans;
  } catch (err) {
    if (err instanceof SignInNeeded || !/no backup plans/.test(err.message)) throw err;
    $main.replaceChildren(h('h1', {}, 'Plans'), h('p', {class: 'muted', 'data-testid': 'no-plans'},
      'No backup plans are configured. Start the observatory with ', h('code', {}, 'backspan serve --plans FILE'),
      ' to run backups, restores and retention from here (docs/api.md, "Operations").'));
    return;
  }
  const runs = (await api('/api/v1/runs')).runs;
  const notice = h('div', {'data-testid': 'plan-notice'});
  const start = async (plan, command) => {
    try {
      const run = await api(`/api/v1/plans/${encodeURIComponent(plan)}/${command}`, {method: 'POST', body: '{}'});
      notice.replaceChildren(h('p', {class: 'muted'}, `Started ${command} of ${plan}: run ${run.id}.`));
      setTimeout(route, 500);
    } catch (err) {
      if (err instanceof SignInNeeded) return route();
      notice.replaceChildren(h('div', {class: 'error', role: 'alert', 'data-testid': 'plan-error', text: `${command} refused: ${err.message}`}));
    }
  };
  const retention = (r) => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const planRows = plans.map((p) => h('tr', {'data-testid': 'plan-row'},
    h('td', {}, p.name),
    h('td', {}, p.tags['azure.resource_group.name'] || ''),
    h('td', {class: 'mono'}, p.paths.join(' ')),
    h('td', {class: 'mono'}, p.repository),
    h('td', {}, retention(p.retention)),
    h('td', {class: 'actions'},
      h('button', {'data-testid': 'plan-backup', onclick: () => start(p.name, 'backup')}, 'Back up now'),
      p.restore_root ? h('button', {'data-testid': 'plan-restore', onclick: () => start(p.name, 'restore')}, 'Restore latest') : null,
      Object.keys(p.retention).length ? h('button', {'data-testid': 'plan-forget', onclick: () => start(p.name, 'forget')}, 'Apply retention') : null)));
  const state = (r) => badge(r.state === 'succeeded' ? 'ok' : r.state === 'failed' ? 'failed' : 'running');
  const runRows = runs.map((r) => h('tr', {'data-testid': 'run-row', 'data-state': r.state},
    h('td', {}, state(r)),
    h('td', {}, r.trace_id ? h('a', {href: `#/trace/${r.trace_id}`, 'data-testid': 'run-trace'}, `${r.command} ${r.plan}`) : `${r.command} ${r.plan}`),
    h('td', {title: r.started}, localTime(r.started)),
    h('td', {}, r.triggered_by || ''),
    h('td', {class: 'num'}, r.exit_code ?? ''),
    h('td', {class: 'err', title: r.stderr_tail.join('\n')}, r.stderr_tail[r.stderr_tail.length - 1] || '')));
  $main.replaceChildren(
    h('h1', {}, 'Plans'),
    h('p', {class: 'muted'}, 'Backup plans this observatory runs. Your roles decide which you see and which actions you may take.'),
    notice,
    h('table', {class: 'jobs', 'data-testid': 'plans-table'},
      h('thead', {}, h('tr', {}, ['Plan', 'Resource group', 'Paths', 'Repository', 'Retention', ''].map((t) => h('th', {text: t})))),
      h('tbody', {}, planRows)),
    h('h2', {style: 'margin-top: 16px'}, 'Runs'),
    runs.length ? h('table', {class: 'jobs', 'data-testid': 'runs-table'},
      h('thead', {}, h('tr', {}, ['State', 'Run', 'Started', 'By', 'Exit', 'Last message'].map((t) => h('th', {text: t})))),
      h('tbody', {}, runRows)) : h('p', {class: 'muted'}, 'No runs yet.'));
  refreshTimer = setTimeout(route, runs.some((r) => r.state === 'running') ? 1000 : 15000);
}

// ---- routing ---------------------------------------------------------------------

async function route() {
  clearTimeout(refreshTimer);
  delete document.body.dataset.ready;  // set again once this page has rendered
  charts.forEach((c) => c.destroy());
  charts = [];
  const path = location.hash.replace(/^#\/?/, '').split('?')[0] || 'jobs';
  const [page, arg] = path.split('/');
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === page || (page === 'trace' && a.dataset.page === 'jobs')));
  try {
    if (page === 'trace') await tracePage(arg);
    else if (page === 'trends') await trendsPage();
    else if (page === 'freshness') await freshnessPage();
    else if (page === 'insights') await insightsPage();
    else if (page === 'plans') await plansPage();
    else await jobsPage();
    stamp();
    document.body.dataset.ready = page;
  } catch (err) {
    if (err instanceof SignInNeeded) {
      signInPage(err.message);
      document.body.dataset.ready = 'signin';
    } else {
      showError(err);
    }
  }
  document.getElementById('signout').hidden = !sessionStorage.getItem(TOKEN_KEY);
}

document.getElementById('signout').addEventListener('click', (e) => {
  e.preventDefault();
  sessionStorage.removeItem(TOKEN_KEY);
  route();
});

window.addEventListener('hashchange', route);
route();
