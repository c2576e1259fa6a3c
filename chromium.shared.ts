/**
 * The Chromium that the browser-mode tests and the browser benchmarks drive: Debian's by
 * default (`apt-get install -y chromium`), another one through `CHROMIUM_PATH`.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch flags for Chromium on a machine with no network beyond loopback and no GPU. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
