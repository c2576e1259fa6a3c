import { describe, expect, it } from 'vitest';
import {
  balance,
  deposit,
  openAccount,
  screenshot,
  text,
  timelineSummary,
  useChromium,
  version,
  waitForServiceWorker,
} from './helpers';

const chromium = useChromium();

describe('offline', () => {
  it('opens from the service worker with no network, and keeps taking commands', async () => {
    const { page, context } = await chromium.open('#/local');
    const id = await openAccount(page, 'Mary Somerville');
    await deposit(page, '80');
    await expect.poll(() => balance(page)).toBe('€80.00');
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

      await page.reload();
      expect(page.url()).toContain(`#/local/account/${id}`);
      await expect.poll(() => version(page)).toBe(2);
      expect(await balance(page)).toBe('€80.00');
      // A banner in the status region says so, and that the app keeps working.
      const banner = page.getByRole('status').locator('.offline');
      await expect
        .poll(() => text(banner))
        .toBe(
          'You are offline. The app keeps working: changes to this browser’s accounts are kept on this device.',
        );

      await deposit(page, '20');
      await expect.poll(() => balance(page)).toBe('€100.00');
      expect(await timelineSummary(page)).toEqual([
        '3 FundsDeposited',
        '2 FundsDeposited',
        '1 AccountOpened',
      ]);
      await screenshot(page, 'offline.png');

      // A brand-new navigation to the app works offline too.
      const other = await context.newPage();
      await other.goto(page.url().replace(/#.*$/, '#/local'));
      await other.getByRole('link', { name: 'Mary Somerville' }).waitFor();
      await other.close();
    } finally {
      await context.setOffline(false);
    }
    await expect.poll(() => page.locator('.offline').count()).toBe(0);

    // Back online, the same state.
    await page.reload();
    await expect.poll(() => version(page)).toBe(3);
    expect(await balance(page)).toBe('€100.00');
  });
});
