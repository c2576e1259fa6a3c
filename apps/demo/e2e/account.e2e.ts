import { describe, expect, it } from 'vitest';
import {
  actAs,
  alert,
  balance,
  deposit,
  openAccount,
  screenshot,
  status,
  synced,
  syncTitle,
  text,
  timeline,
  timelineRows,
  timelineSummary,
  useChromium,
  useOwnWorker,
  version,
  withdraw,
} from './helpers';

/** The browser globals that page functions here use (Node-side code has no DOM typings). */
declare const document: { readonly documentElement: { readonly scrollWidth: number } };
declare const window: { readonly innerWidth: number };
declare const getComputedStyle: (element: unknown) => { readonly [property: string]: string };

const chromium = useChromium();
// The file's own Worker: its account list holds only the accounts opened here.
const worker = useOwnWorker();

describe('an account synced with the Worker', () => {
  it('opens, takes deposits and withdrawals, refuses an overdraft, and closes when empty', async () => {
    const { page } = await chromium.connect(worker);
    await expect.poll(() => page.getByText('No accounts yet').isVisible()).toBe(true);

    await openAccount(page, 'Ada Lovelace');
    expect(await balance(page)).toBe('€0.00');
    await expect
      .poll(() => page.getByRole('heading', { level: 2, name: /Ada Lovelace/ }).isVisible())
      .toBe(true);

    await deposit(page, '100');
    await expect.poll(() => balance(page)).toBe('€100.00');
    await withdraw(page, '30.50');
    await expect.poll(() => balance(page)).toBe('€69.50');

    // More than the balance: refused by the account's rules, nothing appended.
    await page.getByLabel(/Amount/).fill('500');
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
    await alert(page, /Insufficient funds/).waitFor();
    expect(await text(alert(page, /Insufficient funds/))).toContain('€69.50');
    expect(await version(page)).toBe(3);
    expect(await balance(page)).toBe('€69.50');
    expect(await timelineSummary(page)).toEqual([
      '3 FundsWithdrawn',
      '2 FundsDeposited',
      '1 AccountOpened',
    ]);

    // Whoever is "Acting as" is recorded on the events.
    await actAs(page, 'bob');
    await deposit(page, '0.50');
    await expect.poll(() => balance(page)).toBe('€70.00');

    const rows = await timelineRows(page);
    expect(rows.map((row) => [row.version, row.type, row.details, row.user])).toEqual([
      [4, 'FundsDeposited', '+€0.50', 'bob'],
      [3, 'FundsWithdrawn', '−€30.50', 'alice'],
      [2, 'FundsDeposited', '+€100.00', 'alice'],
      [1, 'AccountOpened', 'opened for Ada Lovelace in EUR', 'alice'],
    ]);
    for (const row of rows) {
      expect(row.correlation).toMatch(/^[0-9a-f]{8}$/);
      expect(row.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    }
    expect(new Set(rows.map((row) => row.correlation)).size).toBe(rows.length);
    // Each change went to the Worker: none is marked as waiting.
    await synced(page);
    await expect
      .poll(async () => (await timelineRows(page)).some((row) => row.pending))
      .toBe(false);
    await timeline(page).scrollIntoViewIfNeeded();
    // A wide screen has room for every column: no hint to swipe.
    expect(await page.getByText('Swipe the table sideways').isVisible()).toBe(false);
    await screenshot(page, 'account.png', { fullPage: true });

    // Closing, which cannot be undone, looks unlike the other commands.
    const looks = (name: string) =>
      page.getByRole('button', { name, exact: true }).evaluate((button) => {
        const style = getComputedStyle(button);
        return `${style.color} on ${style.backgroundColor}, border ${style.borderColor}`;
      });
    const closeLooks = await looks('Close account');
    expect(closeLooks).not.toBe(await looks('Deposit'));
    expect(closeLooks).not.toBe(await looks('Withdraw'));
    expect(closeLooks).not.toBe(await looks('Take snapshot'));

    // Closing is refused while there is money on the account.
    await page.getByRole('button', { name: 'Close account' }).click();
    await alert(page, /Withdraw the balance \(€70\.00\) before closing/).waitFor();
    expect(await status(page)).toBe('open');
    expect(await version(page)).toBe(4);

    await withdraw(page, '70');
    await expect.poll(() => balance(page)).toBe('€0.00');
    await page.getByRole('button', { name: 'Close account' }).click();
    await expect.poll(() => status(page)).toBe('closed');
    expect(await version(page)).toBe(6);
    expect((await timelineSummary(page))[0]).toBe('6 AccountClosed');
    // A closed account takes no more commands.
    expect(await page.getByRole('button', { name: 'Deposit' }).count()).toBe(0);
    // The list says it is closed.
    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    const item = page.getByRole('listitem').filter({ hasText: 'Ada Lovelace' });
    await expect.poll(() => text(item)).toMatch(/^Ada Lovelace €0\.00 closed\s+#[0-9a-f]{8} · /);
  });

  it('shows the same state after a reload, and from the accounts list', async () => {
    const { page } = await chromium.connect(worker);
    await openAccount(page, 'Grace Hopper', 'USD');
    await deposit(page, '250');
    await withdraw(page, '75.25');
    await actAs(page, 'carol');
    await deposit(page, '10');
    await expect.poll(() => balance(page)).toBe('$184.75');
    await synced(page);
    await expect
      .poll(async () => (await timelineRows(page)).some((row) => row.pending))
      .toBe(false);
    const before = await timelineRows(page);
    expect(before).toHaveLength(4);

    await page.reload();
    await expect.poll(() => version(page)).toBe(4);
    expect(await balance(page)).toBe('$184.75');
    expect(await status(page)).toBe('open');
    await expect.poll(() => timelineRows(page)).toEqual(before);
    // "Acting as" is remembered too.
    expect(await page.getByLabel('Acting as').inputValue()).toBe('carol');

    // Back to the list, and in again through the account's link.
    await openAccount(page, 'Alan Turing', 'GBP');
    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    const list = page.getByRole('region', { name: 'Accounts', exact: true }).getByRole('listitem');
    // Newest first, each with its balance (the first test's account after them), all synced.
    await synced(page);
    await expect.poll(() => text(list.nth(0))).toMatch(/^Alan Turing £0\.00\s+#[0-9a-f]{8} · /);
    expect(await text(list.nth(1))).toMatch(/^Grace Hopper \$184\.75\s+#[0-9a-f]{8} · /);
    expect(await list.filter({ hasText: 'not synced' }).count()).toBe(0);
    await screenshot(page, 'accounts.png');
    await page.getByRole('link', { name: 'Grace Hopper' }).click();
    await expect.poll(() => version(page)).toBe(4);
    expect(await balance(page)).toBe('$184.75');
    expect(await timelineRows(page)).toEqual(before);
  });

  it('fits a phone screen', async () => {
    const context = await chromium.context({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const { page } = await chromium.connect(worker, context);
    await openAccount(page, 'Katherine Johnson');
    await deposit(page, '42');
    await expect.poll(() => balance(page)).toBe('€42.00');
    await synced(page);
    // Nothing spills sideways: the timeline scrolls in its own box, and says so.
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    ).toBe(true);
    const region = page.getByRole('region', { name: 'Timeline table' });
    const hint = page
      .getByRole('region', { name: 'Timeline', exact: true })
      .getByText('Swipe the table sideways to see all of its columns.');
    expect(await hint.isVisible()).toBe(true);
    const box = (await region.evaluate((element) => {
      const { scrollWidth, clientWidth } = element as { scrollWidth: number; clientWidth: number };
      return { scrollWidth, clientWidth };
    })) as { scrollWidth: number; clientWidth: number };
    expect(box.scrollWidth).toBeGreaterThan(box.clientWidth);
    // Its first columns are in view: which event, and what it did.
    const [newest] = await timelineRows(page);
    expect(newest).toMatchObject({ version: 2, type: 'FundsDeposited', details: '+€42.00' });
    for (const cell of ['Version', 'Event', 'Details']) {
      expect(await region.getByRole('columnheader', { name: cell }).isVisible()).toBe(true);
    }
    // The picture: the snapshots and the timeline, at the top of the screen.
    await page
      .getByRole('heading', { name: 'Snapshots' })
      .evaluate((heading) => (heading as { scrollIntoView(): void }).scrollIntoView());
    await screenshot(page, 'phone.png');
  });
});

describe('an account on this device only', () => {
  it('works without a Worker: changes stay in this browser, marked as not synced', async () => {
    // No connect link: nothing is set up to sync with.
    const { page } = await chromium.open('#/');
    await page.getByText('No accounts yet').waitFor();
    expect(await syncTitle(page)).toBe('This device only');
    const bar = page.getByRole('region', { name: 'Sync status' });
    expect(await bar.getByRole('link', { name: 'Set up a Worker' }).getAttribute('href')).toBe(
      '#/sync',
    );
    expect(await bar.getByRole('button', { name: 'Sync now' }).count()).toBe(0);

    const id = await openAccount(page, 'Mary Jackson');
    await deposit(page, '20');
    await withdraw(page, '5');
    await expect.poll(() => balance(page)).toBe('€15.00');
    await expect.poll(() => syncTitle(page)).toBe('3 changes on this device only');
    expect(await text(page.getByTestId('unsynced'))).toBe(
      'Includes 3 changes made on this device and not synced yet.',
    );
    const rows = await timelineRows(page);
    expect(rows.map((row) => [row.version, row.type, row.pending])).toEqual([
      [3, 'FundsWithdrawn', true],
      [2, 'FundsDeposited', true],
      [1, 'AccountOpened', true],
    ]);

    // Kept in this browser across a reload, and listed with what waits.
    await page.reload();
    await expect.poll(() => version(page)).toBe(3);
    expect(await balance(page)).toBe('€15.00');
    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    const list = page.getByRole('region', { name: 'Accounts', exact: true }).getByRole('listitem');
    await expect
      .poll(() => text(list.first()))
      .toMatch(new RegExp(`^Mary Jackson €15\\.00\\s+3 changes not synced #${id} · `));
    expect(await list.count()).toBe(1);
  });
});
