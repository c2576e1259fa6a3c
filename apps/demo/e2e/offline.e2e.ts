import { describe, expect, it } from 'vitest';
import {
  balance,
  deposit,
  goToAccount,
  openAccount,
  screenshot,
  synced,
  syncTitle,
  text,
  timelineRows,
  url,
  useChromium,
  version,
  waitForServiceWorker,
  withdraw,
} from './helpers';

const chromium = useChromium();

describe('offline', () => {
  it('opens from the service worker with no network, keeps its changes across a reload, and syncs them when back', async () => {
    const { page, context } = await chromium.connect();
    const id = await openAccount(page, 'Mary Somerville');
    await deposit(page, '80');
    await synced(page);
    await waitForServiceWorker(page);

    await context.setOffline(true);
    try {
      // The network is really gone: the server is out of reach for this context.
      expect(
        await page.evaluate(() =>
          fetch(`/no-such-file-${Math.random()}`).then(
            () => 'reached',
            () => 'unreachable',
          ),
        ),
      ).toBe('unreachable');
      await deposit(page, '20');
      await expect.poll(() => syncTitle(page)).toBe('Offline · 1 change kept here');

      // The app comes from the service worker, the change from IndexedDB.
      await page.reload();
      expect(page.url()).toContain(`#/account/${id}`);
      await expect.poll(() => version(page)).toBe(3);
      expect(await balance(page)).toBe('€100.00');
      await expect.poll(() => syncTitle(page)).toBe('Offline · 1 change kept here');
      expect((await timelineRows(page)).map((row) => `${row.version} ${row.pending}`)).toEqual([
        '3 true',
        '2 false',
        '1 false',
      ]);
      // A banner in the status region says so, and that the app keeps working.
      const banner = page.getByRole('status').locator('.offline');
      await expect
        .poll(() => text(banner))
        .toBe(
          'You are offline. The app keeps working: changes are kept on this device and sync when the network is back.',
        );

      await withdraw(page, '30');
      await expect.poll(() => balance(page)).toBe('€70.00');
      await expect.poll(() => syncTitle(page)).toBe('Offline · 2 changes kept here');
      await screenshot(page, 'offline.png');

      // A brand-new navigation to the app works offline too, and lists what waits.
      const other = await context.newPage();
      await other.goto(url('#/'));
      await other
        .getByRole('listitem')
        .filter({ hasText: 'Mary Somerville' })
        .getByText('2 changes not synced')
        .waitFor();
      await other.close();
    } finally {
      await context.setOffline(false);
    }
    await expect.poll(() => page.locator('.offline').count()).toBe(0);

    // Back online, the changes go to the Worker on their own...
    await synced(page);
    await expect
      .poll(async () => (await timelineRows(page)).filter((row) => row.pending).length)
      .toBe(0);
    // ...and another device gets them.
    const { page: laptop } = await chromium.connect();
    await goToAccount(laptop, id);
    await expect.poll(() => version(laptop)).toBe(4);
    expect(await balance(laptop)).toBe('€70.00');
  });
});
