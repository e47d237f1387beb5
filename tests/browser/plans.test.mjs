// Running a plan's backup from the UI, in headless Chromium: a Reader sees
// the plan but is refused, with the reason, when it presses "Back up now";
// an Operator's press starts a run, which ends "ok" with a link to its trace.
//
//   node plans.test.mjs URL READER_TOKEN OPERATOR_TOKEN ARTIFACT_DIR
import {launch} from './chromium.mjs';
import assert from 'node:assert/strict';
import path from 'node:path';

const [url, readerToken, operatorToken, artifacts] = process.argv.slice(2);
const browser = await launch();
const page = await browser.newPage({viewport: {width: 1400, height: 700}});
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
const ready = (name) => page.waitForFunction((n) => document.body.dataset.ready === n, name);
const signIn = async (token) => {
  await ready('signin');
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('token-submit').click();
  await ready('plans');
};

await page.goto(`${url}/#/plans`);
await signIn(readerToken);
assert.deepEqual((await page.getByTestId('plan-row').allInnerTexts()).map((r) => r.split('\t')[0]), ['prod-files']);
await page.getByTestId('plan-backup').click();
await page.getByTestId('plan-error').waitFor();
assert.match(await page.getByTestId('plan-error').innerText(), /no role grants jobs\.trigger/);

await page.getByTestId('signout').click();
await signIn(operatorToken);
await page.getByTestId('plan-backup').click();
await page.locator('[data-testid="run-row"][data-state="succeeded"] [data-testid="run-trace"]').waitFor({timeout: 60000});
await page.screenshot({path: path.join(artifacts, 'plans.png')});
await page.locator('[data-testid="run-row"][data-state="succeeded"] [data-testid="run-trace"]').first().click();
await ready('trace');
const spans = await page.getByTestId('span-row').allInnerTexts();
assert.ok(spans.some((s) => s.startsWith('backup')), `the run's trace has its backup span: ${spans}`);
await browser.close();
assert.deepEqual(errors, []);
console.log('plans ok');
