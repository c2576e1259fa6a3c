import type { BrowserContext } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import {
  balance,
  connectUrl,
  deposit,
  openAccount,
  text,
  url,
  useChromium,
  version,
  waitForServiceWorker,
  withdraw,
} from './helpers';

// Background Sync, where the browser has it: a change made offline is synced by the
// service worker once the network is back, with no tab of the app open.

/** The browser globals the page functions here use. */
declare const navigator: {
  readonly serviceWorker: {
    readonly ready: Promise<{ readonly sync: { getTags(): Promise<string[]> } }>;
  };
};

const chromium = useChromium();

/**
 * Fires the service worker's `sync` event for `tag` through the DevTools protocol: the
 * browser fires it when its own network comes back, which an emulated offline context
 * never changes.
 */
const fireBackgroundSync = async (context: BrowserContext, origin: string, tag: string) => {
  const blank = await context.newPage();
  const cdp = await context.newCDPSession(blank);
  const registration = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const found = registrations.find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted);
      if (found) resolve(found.registrationId);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.dispatchSyncEvent', {
    origin,
    registrationId: await registration,
    tag,
    lastChance: false,
  });
};

describe('Background Sync', () => {
  it('the service worker syncs a change made offline after the tab is gone', async () => {
    const link = connectUrl(inject('workerUrl'), inject('token'));
    const { page, context } = await chromium.open(link);
    await waitForServiceWorker(page);
    const id = await openAccount(page, 'Mary Somerville');
    await deposit(page, '10');
    await expect.poll(() => text(page.getByTestId('sync-title'))).toBe('Synced');

    // Offline: the change waits, and the failed sync registers Background Sync.
    await context.setOffline(true);
    await withdraw(page, '4');
    await expect
      .poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).sync.getTags()))
      .toEqual(['eventkv-demo-replica']);
    await page.close();

    // Back online with no tab of the app open: the browser wakes the service worker.
    await context.setOffline(false);
    await fireBackgroundSync(context, new URL(link).origin, 'eventkv-demo-replica');

    // Another device sees the withdrawal.
    const other = await chromium.open(link);
    await other.page.goto(url(`#/account/${encodeURIComponent(id)}`));
    await expect.poll(() => version(other.page)).toBe(3);
    expect(await balance(other.page)).toBe('€6.00');
  });
});
