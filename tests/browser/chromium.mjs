// Debian's headless Chromium, driven by playwright-core, as every browser
// test launches it: loopback only, nothing fetched in the background.
import {chromium} from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
