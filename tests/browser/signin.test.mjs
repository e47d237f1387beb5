// Signing in to an observatory with access control, in headless Chromium:
// the UI asks for a token, shows only the jobs the token's roles allow, and
// signs out. A refused token says why.
//
//   node signin.test.mjs URL TOKEN ARTIFACT_DIR
import {launch} from './chromium.mjs';
import assert from 'node:assert/strict';
import path from 'node:path';

const [url, token, artifacts] = process.argv.slice(2);
const browser = await launch();
const page = await browser.newPage({viewport: {width: 1400, height: 700}});
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
const ready = (name) => page.waitForFunction((n) => document.body.dataset.ready === n, name);

await page.goto(`${url}/#/jobs`);
await ready('signin');
await page.getByTestId('token-input').fill('not-a-token');
await page.getByTestId('token-submit').click();
await ready('signin');
await page.getByTestId('signin-error').waitFor();
assert.match(await page.getByTestId('signin-error').innerText(), /three base64url parts/);

await page.getByTestId('token-input').fill(token);
await page.getByTestId('token-submit').click();
await ready('jobs');
const rows = await page.getByTestId('job-row').allInnerTexts();
assert.ok(rows.length >= 1, 'the reader sees its jobs');
for (const row of rows) assert.ok(row.includes('rg-prod') && !row.includes('rg-dev'), `row outside the reader's scope: ${row}`);
await page.screenshot({path: path.join(artifacts, 'signed-in.png')});

await page.getByTestId('signout').click();
await ready('signin');
await browser.close();
assert.deepEqual(errors, []);
console.log('signin ok');
