'use strict';
// The Insights page (docs/insight.md): anomalies over time by kind, one
// source's durations against its window with the overrun forecast and its
// band, its stored bytes against the quota, and the anomalies to open.
// Uses app.js's helpers (h, api, chart colours, duration, bytes).

const KIND_COLOURS = {duration: '#2563eb', throughput: '#9333ea', change: '#dc2626', failures: '#ea580c', phase: '#0891b2'};

function plot(el, opts, data) {
  charts.push(new uPlot({width: Math.min(el.clientWidth || 900, 1100), height: 240, ...opts}, data, el));
}

// Anomalies per day, one line per kind.
function anomalyChart(el, anomalies, sinceSeconds) {
  const day = 86400;
  const first = Math.floor(sinceSeconds / day) * day;
  const days = [];
  for (let t = first; t <= Date.now() / 1000; t += day) days.push(t);
  const kinds = Object.keys(KIND_COLOURS);
  const counts = kinds.map(() => days.map(() => 0));
  for (const a of anomalies) {
    const i = Math.floor((Date.parse(a.time) / 1000 - first) / day);
    if (i >= 0 && i < days.length) counts[kinds.indexOf(a.kind)][i] += 1;
  }
  plot(el, {title: 'Anomalies per day, by kind', scales: {x: {time: true}},
    series: [{}, ...kinds.map((k) => ({label: k, stroke: KIND_COLOURS[k], width: 2, paths: uPlot.paths.stepped({align: 1})}))]},
  [days, ...counts]);
}

// The source's durations and windows, and the forecast run with its band.
function overrunChart(el, jobs, forecast) {
  const ok = jobs.filter((j) => j.outcome === 'success');
  const xs = ok.map((j) => j.start_unix_s);
  const dur = ok.map((j) => j.duration_s);
  const win = ok.map((j) => j.window_s);
  const fc = ok.map(() => null), lo = ok.map(() => null), hi = ok.map(() => null);
  const o = forecast && forecast.overrun;
  if (o && ok.length) {
    // From the last run to the forecast one: the trend, and its band.
    fc[fc.length - 1] = lo[lo.length - 1] = hi[hi.length - 1] = dur[dur.length - 1];
    xs.push(Date.parse(o.expected_at) / 1000);
    dur.push(null);
    win.push(o.window_s);
    fc.push(o.predicted_duration_s);
    lo.push(o.low_s);
    hi.push(o.high_s);
  }
  const s = (label, stroke, extra) => ({label, stroke, width: 2, spanGaps: true, value: (u, v) => (v == null ? '–' : duration(v * 1000)), ...extra});
  plot(el, {title: o ? `Duration against its window: overrun forecast ${o.runs_ahead} run(s) ahead` : 'Duration against its window',
    scales: {x: {time: true}}, axes: [{}, {values: (u, vals) => vals.map((v) => duration(v * 1000)), size: 80}],
    series: [{}, s('duration', '#2563eb', {points: {show: true, size: 4}}), s('window', '#dc2626', {dash: [6, 4]}),
      s('forecast', '#ea580c', {dash: [2, 3]}), s('90 % band low', '#fdba74', {width: 1}), s('90 % band high', '#fdba74', {width: 1})]},
  [xs, dur, win, fc, lo, hi]);
}

// Stored bytes, summed, against the quota and when it will be reached.
function growthChart(el, jobs, growth) {
  const xs = [], stored = [];
  let sum = 0;
  for (const j of jobs) {
    if (j.outcome !== 'success' && j.outcome !== 'partial') continue;
    sum += j.bytes_stored || j.bytes_added;
    xs.push(j.start_unix_s);
    stored.push(sum);
  }
  // The history shown is the range's; the forecast's total is all of it.
  const offset = growth.stored_bytes - sum;
  const shown = stored.map((v) => v + offset);
  const quota = xs.map(() => growth.quota_bytes);
  if (growth.expected_at) {
    xs.push(Date.parse(growth.expected_at) / 1000);
    shown.push(growth.quota_bytes);
    quota.push(growth.quota_bytes);
  }
  plot(el, {title: growth.expected_at ? `Stored bytes: the quota is reached ${localTime(growth.expected_at)}` : 'Stored bytes against the quota',
    scales: {x: {time: true}}, axes: [{}, {values: (u, vals) => vals.map(bytes), size: 80}],
    series: [{}, {label: 'stored', stroke: '#16a34a', width: 2, spanGaps: true, value: (u, v) => (v == null ? '–' : bytes(v))},
      {label: 'quota', stroke: '#dc2626', width: 2, dash: [6, 4], value: (u, v) => (v == null ? '–' : bytes(v))}]},
  [xs, shown, quota]);
}

async function insightsPage() {
  const p = params();
  const range = p.get('range') || '30d';
  const since = Date.now() / 1000 - Number(range.replace('d', '')) * 86400;
  const [found, outlook, fresh] = await Promise.all([api(`/api/v1/anomalies?since=${range}&limit=5000`), api('/api/v1/forecasts'), api('/api/v1/freshness')]);
  const forecasts = outlook.forecasts;
  // The source shown: the one chosen, else the nearest overrun, else the first.
  const soonest = [...forecasts].filter((f) => f.overrun).sort((a, b) => a.overrun.runs_ahead - b.overrun.runs_ahead)[0];
  const chosen = p.get('source') || String((soonest || forecasts[0] || {}).source || '');
  const current = forecasts.find((f) => String(f.source) === chosen);
  const label = (s) => `${s.host} ${s.paths || ''}`.trim();
  const sources = fresh.sources.filter((s) => s.source_id !== null);
  const form = h('form', {class: 'filters', onchange: () => setParams('insights', new URLSearchParams([...new FormData(form).entries()])),
    onsubmit: (e) => e.preventDefault()},
  h('label', {}, 'Range ', h('select', {name: 'range'}, ['7d', '30d', '90d', '180d'].map((r) => h('option', {value: r, selected: r === range, text: r})))),
  h('label', {}, 'Source ', h('select', {name: 'source', 'data-testid': 'insight-source'},
    sources.map((s) => h('option', {value: String(s.source_id), selected: String(s.source_id) === chosen, text: label(s)})))));
  const boxes = [1, 2, 3].map(() => h('div', {class: 'chart', 'data-testid': 'insight-chart'}));
  const risk = current ? current.risk : null;
  const riskLine = risk ? h('p', {'data-testid': 'insight-risk'}, 'Next run: ',
    `${(risk.p_fail * 100).toFixed(1)} % fails · ${(risk.p_missed * 100).toFixed(1)} % missed`,
    risk.p_overrun == null ? '' : ` · ${(risk.p_overrun * 100).toFixed(1)} % overruns its window`,
    current.next_run ? ` · due ${localTime(current.next_run)}` : '') : null;
  const rows = found.anomalies.slice(0, 100).map((a) => h('tr', {'data-testid': 'anomaly-row', 'data-kind': a.kind},
    h('td', {title: a.time}, localTime(a.time)),
    h('td', {}, h('span', {class: `badge kind-${a.kind}`}, a.kind)),
    h('td', {}, a.host),
    h('td', {}, a.resource_group),
    h('td', {}, h('a', {href: `#/trace/${a.trace_id}`}, a.message))));
  const n = found.anomalies.length;
  $main.replaceChildren(...[
    h('h1', {}, 'Insights ', n ? h('span', {class: 'badge failed', 'data-testid': 'anomaly-count'}, `${n} ${n === 1 ? 'anomaly' : 'anomalies'}${found.more ? '+' : ''}`) : h('span', {class: 'badge ok'}, 'nothing unusual')),
    found.insight.loaded ? null : h('p', {class: 'muted'}, `Still reading the store's jobs (${found.insight.pending} to judge).`),
    form,
    h('div', {class: 'charts'}, boxes[0]),
    current ? h('h2', {text: `${label(sources.find((s) => String(s.source_id) === chosen) || current)}`}) : null,
    riskLine,
    h('div', {class: 'charts'}, current ? boxes[1] : null, current && current.growth ? boxes[2] : null),
    found.anomalies.length ? h('table', {class: 'jobs', 'data-testid': 'anomaly-table'},
      h('thead', {}, h('tr', {}, ['Job started', 'Kind', 'Host', 'Resource group', 'What is unusual'].map((t) => h('th', {text: t})))),
      h('tbody', {}, rows)) : h('p', {class: 'muted'}, 'No anomalies in this range.')].filter(Boolean));
  anomalyChart(boxes[0], found.anomalies, since);
  if (current) {
    const jobs = await api(`/api/v1/insight/features?source=${encodeURIComponent(chosen)}&since=${range}`, {lines: true});
    overrunChart(boxes[1], jobs, current);
    if (current.growth) growthChart(boxes[2], jobs, current.growth);
  }
  refreshTimer = setTimeout(route, 60000);
}

// A banner on a trace whose job insight found unusual.
function anomalyBanner(spans) {
  const found = spans.flatMap((s) => s.events.filter((e) => e.name === 'anomaly'));
  if (!found.length) return null;
  return h('div', {class: 'banner', role: 'status', 'data-testid': 'anomaly-banner'},
    found.map((e) => h('p', {}, h('span', {class: `badge kind-${e.attributes['backspan.anomaly.kind']}`}, e.attributes['backspan.anomaly.kind']),
      ' ', e.attributes['backspan.anomaly.message'])));
}
