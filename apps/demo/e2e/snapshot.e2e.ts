import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  alert,
  balance,
  deposit,
  loadInfo,
  openAccount,
  screenshot,
  synced,
  text,
  timelineSummary,
  useChromium,
  version,
  withdraw,
} from './helpers';

const chromium = useChromium();

const snapshots = (page: Page) => text(page.getByTestId('snapshots'));
const takeSnapshot = (page: Page) =>
  page.getByRole('button', { name: 'Take snapshot', exact: true }).click();

describe('snapshots', () => {
  it('load from the latest snapshot and replay only the events after it', async () => {
    const { page } = await chromium.connect();
    await openAccount(page, 'Hedy Lamarr');
    await deposit(page, '40');
    await withdraw(page, '15');
    expect(await loadInfo(page)).toBe('Last load: no snapshot, 1 event replayed from the start.');
    expect(await snapshots(page)).toBe('Snapshots: none yet');

    await synced(page);
    await takeSnapshot(page);
    await expect.poll(() => snapshots(page)).toBe('Snapshots: version 3');
    await page.getByText('Snapshot saved at version 3: the next load starts from it.').waitFor();

    await page.reload();
    await expect
      .poll(() => loadInfo(page))
      .toBe('Last load: the snapshot at version 3, then 0 events replayed.');
    expect(await version(page)).toBe(3);
    expect(await balance(page)).toBe('€25.00');
    // The timeline still reads every event: a snapshot only shortens the replay.
    expect(await timelineSummary(page)).toEqual([
      '3 FundsWithdrawn',
      '2 FundsDeposited',
      '1 AccountOpened',
    ]);
    await synced(page);
    await screenshot(page, 'snapshot.png');

    await deposit(page, '5');
    // The in-page "Reload" button and a page reload both load afresh.
    await page.getByRole('button', { name: 'Reload', exact: true }).click();
    await expect
      .poll(() => loadInfo(page))
      .toBe('Last load: the snapshot at version 3, then 1 event replayed.');
    await page.reload();
    await expect
      .poll(() => loadInfo(page))
      .toBe('Last load: the snapshot at version 3, then 1 event replayed.');
    expect(await version(page)).toBe(4);
    expect(await balance(page)).toBe('€30.00');

    // A newer snapshot wins.
    await synced(page);
    await takeSnapshot(page);
    await expect.poll(() => snapshots(page)).toBe('Snapshots: versions 3 and 4');
    await page.reload();
    await expect
      .poll(() => loadInfo(page))
      .toBe('Last load: the snapshot at version 4, then 0 events replayed.');
    expect(await balance(page)).toBe('€30.00');
  });

  it('hold only what the Worker confirmed: a change still waiting is replayed on top', async () => {
    const { page, context } = await chromium.connect();
    await openAccount(page, 'Annie Easley');
    await deposit(page, '10');
    await synced(page);

    await context.setOffline(true);
    await deposit(page, '5');
    await expect.poll(() => balance(page)).toBe('€15.00');
    // The account is at version 3, the Worker has version 2: the snapshot is taken there.
    await takeSnapshot(page);
    await page.getByText('Snapshot saved at version 2: the next load starts from it.').waitFor();
    await page.getByRole('button', { name: 'Reload', exact: true }).click();
    await expect
      .poll(() => loadInfo(page))
      .toBe('Last load: the snapshot at version 2, then 1 event replayed.');
    expect(await version(page)).toBe(3);
    expect(await balance(page)).toBe('€15.00');

    await context.setOffline(false);
    await synced(page);
    expect(await balance(page)).toBe('€15.00');
  });

  it('are refused while nothing of the account is synced', async () => {
    // No Worker set up: every change waits on this device.
    const { page } = await chromium.open('#/');
    await openAccount(page, 'Mae Jemison');
    await deposit(page, '1');
    await takeSnapshot(page);
    await alert(page, 'Nothing of this account is synced yet: snapshot it after a sync.').waitFor();
    expect(await snapshots(page)).toBe('Snapshots: none yet');
  });
});
