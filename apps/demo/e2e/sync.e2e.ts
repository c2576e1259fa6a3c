import { describe, expect, it } from 'vitest';
import {
  balance,
  deposit,
  goToAccount,
  openAccount,
  screenshot,
  syncTitle,
  text,
  useChromium,
  withdraw,
} from './helpers';

// Two devices (two browser profiles: separate storage) syncing one database through the
// Worker: live, offline, and a conflict settled from the page.

const chromium = useChromium();

/** A device: a fresh profile that opened the connect link `pnpm start` prints. */
const device = () => chromium.connect();

describe('two devices syncing through the Worker', () => {
  it("see each other's accounts and changes live", async () => {
    const a = await device();
    const b = await device();
    const id = await openAccount(a.page, 'Grace Hopper');
    await deposit(a.page, '50');
    await expect.poll(() => syncTitle(a.page)).toBe('Synced');

    // The other device is poked and pulls: the account shows without a reload.
    await b.page.getByRole('link', { name: 'Grace Hopper' }).waitFor();
    await goToAccount(b.page, id);
    await expect.poll(() => balance(b.page)).toBe('€50.00');
    await deposit(b.page, '5');
    await expect.poll(() => balance(a.page)).toBe('€55.00');
  });

  it('keep working offline, and sync when back', async () => {
    const a = await device();
    const b = await device();
    const id = await openAccount(a.page, 'Ada Lovelace');
    await deposit(a.page, '10');
    await expect.poll(() => syncTitle(a.page)).toBe('Synced');

    await a.context.setOffline(true);
    await withdraw(a.page, '3');
    await expect.poll(() => syncTitle(a.page)).toMatch(/^Offline · 1 change kept here$/);
    await screenshot(a.page, 'sync-offline.png');

    await a.context.setOffline(false);
    await expect.poll(() => syncTitle(a.page)).toBe('Synced');
    await goToAccount(b.page, id);
    await expect.poll(() => balance(b.page)).toBe('€7.00');
  });

  it('meet in a conflict that the person settles by retrying on the new balance', async () => {
    const a = await device();
    const b = await device();
    const id = await openAccount(a.page, 'Katherine Johnson');
    await deposit(a.page, '100');
    await expect.poll(() => syncTitle(a.page)).toBe('Synced');
    await goToAccount(b.page, id);
    await expect.poll(() => balance(b.page)).toBe('€100.00');

    // Both offline: each withdraws from the balance it saw.
    await a.context.setOffline(true);
    await b.context.setOffline(true);
    await withdraw(a.page, '30');
    await withdraw(b.page, '20');
    await a.context.setOffline(false);
    await expect.poll(() => syncTitle(a.page)).toBe('Synced');
    await b.context.setOffline(false);
    await expect.poll(() => syncTitle(b.page)).toBe('Conflict on 1 account');
    await expect.poll(() => text(b.page.getByTestId('conflict-balance'))).toBe('€70.00');
    await screenshot(b.page, 'sync-conflict.png');

    await b.page.getByRole('button', { name: 'Retry on the new balance' }).click();
    await expect.poll(() => balance(b.page)).toBe('€50.00');
    await expect.poll(() => syncTitle(b.page)).toBe('Synced');
    await expect.poll(() => balance(a.page)).toBe('€50.00');
  });
});
