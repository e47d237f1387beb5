// "Back up now" on the freshness board, in headless Chromium: a Reader's
// press is refused with the reason; an Operator's queues the backup on the
// agent that owns the policy.
//
//   node agent.test.mjs URL READER_TOKEN OPERATOR_TOKEN ARTIFACT_DIR
import {launch} from './chromium.mjs';
import assert from 'node:assert/strict';
import path from 'node:path';

const [url, readerToken, operatorToken, artifacts] = process.argv.slice(2);
const browser = await launch();
const page = await browser.newPage({viewport: {width: 1500, height: 700}});
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
const ready = (name) => page.waitForFunction((n) => document.body.dataset.ready === n, name);
const signIn = async (token) => {
  await ready('signin');
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('token-submit').click();
  await ready('freshness');
};
const prodRow = () => page.locator('[data-testid=source-row]', {hasText: 'web-prod'});

await page.goto(`${url}/#/freshness`);
await signIn(readerToken);
assert.equal(await page.locator('[data-testid=source-row]', {hasText: 'web-dev'}).count(), 0, 'a Reader of rg-prod sees only rg-prod');
await prodRow().getByTestId('backup-now').click();
await page.getByTestId('backup-refused').waitFor();
assert.match(await page.getByTestId('backup-refused').innerText(), /jobs\.trigger/);

await page.getByTestId('signout').click();
await signIn(operatorToken);
await prodRow().getByTestId('backup-now').click();
await page.getByTestId('backup-requested').waitFor();
assert.match(await page.getByTestId('backup-requested').innerText(), /Backup of prod-data requested from agent web-prod/);
assert.equal(await prodRow().getByTestId('restore-now').count(), 1, 'the policy has a restore root: Restore latest is offered');
await page.screenshot({path: path.join(artifacts, 'freshness-agents.png'), fullPage: true});
await browser.close();
assert.deepEqual(errors, []);
