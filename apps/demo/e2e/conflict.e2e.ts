import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  alert,
  amountInput,
  balance,
  deposit,
  openAccount,
  screenshot,
  synced,
  text,
  timelineRows,
  useChromium,
  version,
} from './helpers';

const chromium = useChromium();

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

// A command decided on a version that another writer moved on from, in this browser: the
// replica refuses its append at once (two devices that meet only at the Worker settle it
// from the conflict panel: sync.e2e.ts, sync-faults.e2e.ts).
describe('a version conflict', () => {
  it('saves nothing of the late command, reloads the account in place, then lets it be redone', async () => {
    const { page } = await chromium.connect();
    await openAccount(page, 'Lise Meitner');
    await deposit(page, '50');

    const simulate = button(page, 'Simulate a concurrent edit');
    expect(await simulate.getAttribute('aria-pressed')).toBe('false');
    await simulate.click();
    await expect.poll(() => simulate.getAttribute('aria-pressed')).toBe('true');

    await amountInput(page).fill('20');
    await button(page, 'Deposit').click();
    const conflict = alert(page, 'Version conflict');
    await conflict.getByRole('heading', { name: 'Version conflict' }).waitFor();
    expect(await text(conflict)).toContain(
      'You acted on version 2, but the account is now at version 3',
    );
    expect(await text(conflict)).toContain('Nothing of your command was saved');

    // The other writer's deposit is there, the late one is not.
    await expect.poll(() => version(page)).toBe(3);
    const rows = await timelineRows(page);
    expect(rows.map((row) => [row.version, row.type, row.details, row.user])).toEqual([
      [3, 'FundsDeposited', '+€1.00', 'another-device'],
      [2, 'FundsDeposited', '+€50.00', 'alice'],
      [1, 'AccountOpened', 'opened for Lise Meitner in EUR', 'alice'],
    ]);
    expect(await balance(page)).toBe('€51.00');
    // Reloaded on the spot: the commands are offered again, without a page reload.
    await conflict
      .getByText('The account is reloaded at version 3: check the balance and decide again.')
      .waitFor();
    for (const name of ['Deposit', 'Withdraw', 'Close account', 'Simulate a concurrent edit']) {
      await expect.poll(() => button(page, name).isEnabled(), { message: name }).toBe(true);
    }
    expect(await simulate.getAttribute('aria-pressed')).toBe('false');
    expect(await amountInput(page).inputValue()).toBe('20');
    // The other writer's deposit syncs; the refused command was never anywhere to sync.
    await synced(page);
    await screenshot(page, 'conflict.png', { fullPage: true });

    // Decided again on the current version, the same command goes through, and the
    // conflict is over.
    await deposit(page, '20');
    await expect.poll(() => balance(page)).toBe('€71.00');
    await conflict.waitFor({ state: 'detached' });
    expect((await timelineRows(page))[0]).toMatchObject({
      version: 4,
      type: 'FundsDeposited',
      details: '+€20.00',
      user: 'alice',
    });
  });

  it('also stops a withdrawal, and an unarmed command after it is not raced', async () => {
    const { page } = await chromium.connect();
    await openAccount(page, 'Chien-Shiung Wu');
    await deposit(page, '10');

    await button(page, 'Simulate a concurrent edit').click();
    await amountInput(page).fill('4');
    await button(page, 'Withdraw').click();
    await alert(page, 'Version conflict').waitFor();
    await expect.poll(() => balance(page)).toBe('€11.00');
    await alert(page, 'The account is reloaded at version 3').waitFor();

    await button(page, 'Withdraw').click();
    await expect.poll(() => balance(page)).toBe('€7.00');
    expect(await version(page)).toBe(4);
    expect(await page.getByRole('alert').count()).toBe(0);
  });
});
