import { describe, expect, it } from 'vitest';
import {
  balance,
  deposit,
  loadInfo,
  openAccount,
  screenshot,
  text,
  timelineSummary,
  useChromium,
  version,
  withdraw,
} from './helpers';

const chromium = useChromium();

describe('snapshots', () => {
  it('load from the latest snapshot and replay only the events after it', async () => {
    const { page } = await chromium.open('#/local');
    await openAccount(page, 'Hedy Lamarr');
    await deposit(page, '40');
    await withdraw(page, '15');
    expect(await loadInfo(page)).toBe('Last load: no snapshot, 1 event replayed from the start.');
    expect(await text(page.getByTestId('snapshots'))).toBe('Snapshots: none yet');

    await page.getByRole('button', { name: 'Take snapshot at version 3' }).click();
    await expect.poll(() => text(page.getByTestId('snapshots'))).toBe('Snapshots: version 3');
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
    await page.getByRole('button', { name: 'Take snapshot at version 4' }).click();
    await expect
      .poll(() => text(page.getByTestId('snapshots')))
      .toBe('Snapshots: versions 3 and 4');
    await page.reload();
    await expect
      .poll(() => loadInfo(page))
      .toBe('Last load: the snapshot at version 4, then 0 events replayed.');
    expect(await balance(page)).toBe('€30.00');
  });
});
