// The web UI in headless Chromium (Debian's, driven by playwright-core),
// against a server the Python test has filled with real backups, a running
// backup, an overdue source and a drifting one with an anomaly. Screenshots
// go to the artifacts directory.
//
//   node ui.test.mjs URL ARTIFACT_DIR
import {launch} from './chromium.mjs';
import assert from 'node:assert/strict';
import path from 'node:path';

const [url, artifacts] = process.argv.slice(2);
const browser = await launch();
const page = await browser.newPage({viewport: {width: 1400, height: 900}});
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
const ready = (name) => page.waitForFunction((n) => document.body.dataset.ready === n, name);
const shot = (name) => page.screenshot({path: path.join(artifacts, `${name}.png`), fullPage: true});

// Jobs: the table lists every job, and the tag filter narrows it.
await page.goto(`${url}/#/jobs`);
await ready('jobs');
const all = await page.getByTestId('job-row').count();
assert.ok(all >= 3, `expected at least 3 jobs, saw ${all}`);
await shot('jobs');
await page.getByTestId('filter-tag').fill('azure.resource_group.name=rg-east');
await page.getByRole('button', {name: 'Filter'}).click();
await page.waitForFunction(() => location.hash.includes('rg-east'));
await ready('jobs');
// The filtered list, not the one it replaces.
await page.waitForFunction(() => {
  const rows = [...document.querySelectorAll('[data-testid=job-row]')];
  return rows.length > 0 && rows.every((r) => r.innerText.includes('rg-east'));
});
const filtered = await page.getByTestId('job-row').allInnerTexts();
assert.ok(filtered.length > 0 && filtered.length < all, `tag filter kept ${filtered.length} of ${all}`);
for (const row of filtered) assert.ok(row.includes('rg-east'), `row outside rg-east: ${row}`);
// Azure Backup's jobs and backspan's slice by the same resource group.
const sources = await page.getByTestId('job-source').allInnerTexts();
assert.ok(sources.includes('azure-backup') && sources.includes('backspan'), `sources in rg-east: ${sources}`);

// Waterfall: a real backup's phases on a time axis; a click shows attributes.
await page.locator('[data-testid=job-row] a', {hasText: 'backup'}).first().click();
await ready('trace');
const names = await page.locator('[data-testid=span-row] .span-name').allInnerTexts();
for (const phase of ['backup', 'open repository', 'lock', 'scan', 'process files', 'write index', 'save snapshot'])
  assert.ok(names.includes(phase), `waterfall lacks ${phase}: ${names}`);
const bars = await page.locator('[data-testid=span-row] .bar').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
assert.ok(bars.every((w) => w >= 2), 'every span has a visible bar');
await page.locator('[data-testid=span-row]', {hasText: 'save snapshot'}).click();
await page.getByTestId('span-detail').getByText('backspan.snapshot.id').waitFor();
await shot('trace');

// A running job: listed as running, its trace page says how far it got.
await page.goto(`${url}/#/jobs?status=running`);
await ready('jobs');
assert.equal(await page.getByTestId('job-row').count(), 1);
await page.locator('[data-testid=job-row] a', {hasText: 'backup'}).first().click();
await ready('trace');
assert.equal(await page.getByTestId('job-progress').innerText(), '1200 of 4800 files, 3.0 GiB of 12.0 GiB (25.0%)');
assert.equal(await page.locator('[data-testid=span-row] .bar.running').count(), 1);

// Trends: the charts draw lines on their canvases.
await page.goto(`${url}/#/trends?group_by=azure.resource_group.name&range=2d&bucket=hour&kind=backup`);
await ready('trends');
assert.equal(await page.getByTestId('trend-chart').count(), 4);
const drawn = await page.locator('[data-testid=trend-chart] canvas').first().evaluate((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
  return ink;
});
assert.ok(drawn > 100, `the duration chart drew ${drawn} pixels`);
const legend = await page.locator('.u-legend').first().innerText();
assert.ok(legend.includes('rg-east') && legend.includes('rg-west'), `legend: ${legend}`);
await shot('trends');

// Freshness: the overdue source is red.
await page.goto(`${url}/#/freshness`);
await ready('freshness');
const overdue = page.locator('[data-testid=source-row][data-overdue=true]');
assert.equal(await overdue.count(), 1);
assert.ok((await overdue.innerText()).includes('old-host'));
const color = await overdue.locator('td').first().evaluate((td) => getComputedStyle(td).backgroundColor);
assert.equal(color, 'rgb(254, 226, 226)');
assert.equal(await page.locator('[data-testid=source-row][data-overdue=false]').count() >= 1, true);
await shot('freshness');

// Insights: the slow night is an anomaly, plotted by kind and listed; the
// drifting source's durations are drawn against its window with the
// forecast; its trace carries a banner saying what is unusual.
await page.goto(`${url}/#/insights?range=90d`);
await ready('insights');
const anomalyRows = page.getByTestId('anomaly-row');
assert.ok(await anomalyRows.count() >= 1, 'no anomaly listed');
const phaseRow = page.locator('[data-testid=anomaly-row][data-kind=phase]');
assert.equal(await phaseRow.count(), 1);
assert.ok((await phaseRow.innerText()).includes('`scan` took 80 min'), await phaseRow.innerText());
const inked = await page.locator('[data-testid=insight-chart] canvas').evaluateAll((cs) => cs.map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
  return ink;
}));
assert.ok(inked.length >= 2 && inked.every((n) => n > 100), `insight charts drew ${inked}`);
const sourceName = await page.getByTestId('insight-source').evaluate((s) => s.options[s.selectedIndex].text);
assert.ok(sourceName.startsWith('db-host'), `the source shown first is the one nearest an overrun: ${sourceName}`);
assert.ok((await page.getByTestId('insight-risk').innerText()).includes('overruns its window'));
await shot('insights');
await phaseRow.locator('a').click();
await ready('trace');
const banner = await page.getByTestId('anomaly-banner').innerText();
assert.ok(banner.includes('phase') && banner.includes('slower than usual'), banner);
await shot('anomalous-trace');
// The trends mark it too.
await page.goto(`${url}/#/trends?group_by=azure.resource_group.name&range=90d&bucket=day&kind=backup`);
await ready('trends');
assert.ok((await page.getByTestId('trend-anomalies').innerText()).includes('the anomaly'));

await browser.close();
assert.deepEqual(errors, []);
console.log('ui ok');
