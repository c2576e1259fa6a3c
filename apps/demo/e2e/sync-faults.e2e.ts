import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  actAs,
  alert,
  balance,
  deposit,
  freePort,
  goToAccount,
  openAccount,
  startWorker,
  syncDetail,
  synced,
  syncTitle,
  text,
  timelineRows,
  useChromium,
  version,
  withdraw,
} from './helpers';

// Syncing when things go wrong: the tab that syncs is closed, the Worker is killed and
// started again, and two devices' offline changes meet in a conflict that cannot simply be
// retried. (A reload while offline: offline.e2e.ts.)

const chromium = useChromium();

const LEADS = 'syncs for every tab of this browser';
const FOLLOWS = 'follows the tab that syncs';

/** Shows the Sync page and reads what it says of this tab. */
const roleOf = async (page: Page): Promise<string> => {
  await page.getByRole('link', { name: 'Sync', exact: true }).click();
  return syncDetail(page, 'This tab');
};

/** Back to an account's page through the links, without loading the page again. */
const showAccount = async (page: Page, owner: string) => {
  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await page.getByRole('link', { name: owner, exact: true }).click();
  await expect.poll(() => version(page)).toBeGreaterThan(0);
};

/**
 * Two devices that both hold an account with `opening` on it, then change it while both
 * are offline (`mine` on the second, `theirs` on the first); the first comes back and
 * syncs, then the second, which finds the conflict. Returns both and the account's id.
 */
const conflicted = async (
  owner: string,
  opening: string,
  changes: { theirs: (page: Page) => Promise<unknown>; mine: (page: Page) => Promise<unknown> },
) => {
  const a = await chromium.connect();
  const b = await chromium.connect();
  await actAs(b.page, 'bob');
  const id = await openAccount(a.page, owner);
  await deposit(a.page, opening);
  await synced(a.page);
  await goToAccount(b.page, id);
  await expect.poll(() => version(b.page)).toBe(2);

  await a.context.setOffline(true);
  await b.context.setOffline(true);
  await changes.theirs(a.page);
  await changes.mine(b.page);
  await a.context.setOffline(false);
  await synced(a.page);
  await b.context.setOffline(false);
  await expect.poll(() => syncTitle(b.page)).toBe('Conflict on 1 account');
  return { a, b, id };
};

describe('syncing through faults', () => {
  it('goes on when the tab that syncs is closed: another tab of the browser takes over', async () => {
    const { page: first, context } = await chromium.connect();
    const { page: second } = await chromium.open('#/', context);
    const { page: other } = await chromium.connect();
    const id = await openAccount(second, 'Barbara Liskov');
    await deposit(second, '10');
    await synced(second);
    await synced(first);

    // One of the two leads (the Web Lock decides which), the other follows.
    let roles: string[] = [];
    await expect
      .poll(async () => {
        roles = [await roleOf(first), await roleOf(second)];
        return [...roles].sort();
      })
      .toEqual([FOLLOWS, LEADS]);
    const [leader, follower] = roles[0] === LEADS ? [first, second] : [second, first];

    await leader.close();
    await expect.poll(() => roleOf(follower)).toBe(LEADS);
    await expect
      .poll(() => syncDetail(follower, 'Connection'))
      .toBe('live: the Worker pokes this device when there is news');

    // The tab left syncs its own changes...
    await showAccount(follower, 'Barbara Liskov');
    await deposit(follower, '5');
    await synced(follower);
    await goToAccount(other, id);
    await expect.poll(() => balance(other)).toBe('€15.00');
    // ...and hears another device's at once, over its own live connection.
    await deposit(other, '2');
    await expect.poll(() => balance(follower)).toBe('€17.00');
    await synced(follower);
  });

  it('keeps changes while the Worker is down, and syncs them once it is back, without a reload', async () => {
    // A Worker of this test's own, on a port and a storage directory it keeps: killed and
    // started again on both, as after a crash.
    const port = await freePort();
    const persist = mkdtempSync(join(tmpdir(), 'eventkv-demo-restart-'));
    let running = await startWorker({ port, persist });
    try {
      const access = { url: running.url, token: running.token };
      const a = await chromium.connect(access);
      const b = await chromium.connect(access);
      const id = await openAccount(a.page, 'Radia Perlman');
      await deposit(a.page, '50');
      await synced(a.page);
      await goToAccount(b.page, id);
      await expect.poll(() => balance(b.page)).toBe('€50.00');

      await running.worker.dispose();
      // Commands work; the changes wait on the device, and the page says so.
      await withdraw(a.page, '20');
      await deposit(a.page, '5');
      await expect.poll(() => balance(a.page)).toBe('€35.00');
      await expect.poll(() => syncTitle(a.page)).toBe('Sync failing · 2 changes waiting');
      expect((await timelineRows(a.page)).filter((row) => row.pending)).toHaveLength(2);

      running = await startWorker({ port, persist });
      // Neither a reload nor "Sync now": the agent retries after its backoff, the live
      // connections come back on theirs.
      const patient = { timeout: 90_000, interval: 250 };
      await expect.poll(() => syncTitle(a.page), patient).toBe('Synced');
      expect((await timelineRows(a.page)).filter((row) => row.pending)).toHaveLength(0);
      await expect.poll(() => balance(b.page), patient).toBe('€35.00');
      expect(await version(b.page)).toBe(4);

      // The Worker kept what it had before it was killed.
      const response = await fetch(`${running.url}/v1/demo/streams/BankAccount/${id}/events`, {
        headers: { Authorization: `Bearer ${running.token}` },
      });
      const { events } = (await response.json()) as { events: { type: string }[] };
      expect(events.map((event) => event.type)).toEqual([
        'AccountOpened',
        'FundsDeposited',
        'FundsWithdrawn',
        'FundsDeposited',
      ]);
    } finally {
      await running.worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    }
  }, 240_000);

  it('settles a conflict by dropping this device’s changes', async () => {
    const { a, b } = await conflicted('Margaret Hamilton', '100', {
      theirs: (page) => withdraw(page, '30'),
      mine: (page) => withdraw(page, '20'),
    });
    const panel = alert(b.page, 'Changed on another device');
    await expect.poll(() => text(b.page.getByTestId('conflict-balance'))).toBe('€70.00');
    expect(await text(panel)).toContain('−€30.00 by alice');
    expect(await text(panel)).toContain('Waiting on this device: Withdraw €20.00.');
    // The account list says which account needs the person.
    await b.page.getByRole('link', { name: 'Accounts', exact: true }).click();
    await b.page
      .getByRole('listitem')
      .filter({ hasText: 'Margaret Hamilton' })
      .getByText('conflict', { exact: true })
      .waitFor();
    await showAccount(b.page, 'Margaret Hamilton');

    await panel.getByRole('button', { name: 'Drop my changes' }).click();
    await b.page
      .getByText('Your changes were dropped: the account is as the other device left it.')
      .waitFor();
    await panel.waitFor({ state: 'detached' });
    await expect.poll(() => balance(b.page)).toBe('€70.00');
    expect(await version(b.page)).toBe(3);
    await synced(b.page);
    // Bob's withdrawal is gone from everywhere; the other device is as it was.
    expect(
      (await timelineRows(b.page)).map((row) => `${row.version} ${row.details} ${row.user}`),
    ).toEqual([
      '3 −€30.00 alice',
      '2 +€100.00 alice',
      '1 opened for Margaret Hamilton in EUR alice',
    ]);
    expect(await balance(a.page)).toBe('€70.00');
    expect(await version(a.page)).toBe(3);
  });

  it('says why a retry is refused (the funds are now short), and lets the changes be dropped', async () => {
    const { a, b } = await conflicted('Frances Allen', '100', {
      theirs: (page) => withdraw(page, '80'),
      mine: (page) => withdraw(page, '50'),
    });
    const panel = alert(b.page, 'Changed on another device');
    await expect.poll(() => text(b.page.getByTestId('conflict-balance'))).toBe('€20.00');

    await panel.getByRole('button', { name: 'Retry on the new balance' }).click();
    await panel.getByText('Insufficient funds: the balance is €20.00.').waitFor();
    // Nothing changed: the conflict still waits for the person.
    expect(await syncTitle(b.page)).toBe('Conflict on 1 account');
    expect(await text(panel)).toContain('Waiting on this device: Withdraw €50.00.');

    await panel.getByRole('button', { name: 'Drop my changes' }).click();
    await panel.waitFor({ state: 'detached' });
    await expect.poll(() => balance(b.page)).toBe('€20.00');
    await synced(b.page);
    expect(await balance(a.page)).toBe('€20.00');
    expect(await version(a.page)).toBe(3);
  });
});
