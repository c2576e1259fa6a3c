import { createMemoryKv, type Kv } from '@eventkv/core';
import type { StorageLike } from '@eventkv/sync';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Backend,
  type EdgeSettings,
  loadEdgeSettings,
  SETTINGS_KEY,
  saveEdgeSettings,
} from '../src/backends';
import { formatMoney } from '../src/domain';
import { App } from '../src/ui/app';
import {
  createTestEdge,
  edgeSettings,
  fakeStorage,
  otherTab,
  seedAccount,
  type TestEdge,
  testBackend,
  token,
  unauthorizedFetch,
} from './support';

const euros = (cents: number) => formatMoney(cents, 'EUR');

/** Sync goes through timers (a debounce, backoffs): what it changes is waited for this long. */
const SYNC = { timeout: 5000 };

/**
 * Renders the app on the in-memory replica `kv`, with `edge` as the Worker. It syncs with it
 * when `connected` (the settings are saved as the connect link leaves them); otherwise no
 * Worker is set up, until the page is told of one.
 */
const renderApp = ({
  kv = createMemoryKv(),
  edge = createTestEdge(),
  connected = true,
  fetch,
  storage,
}: {
  kv?: Kv;
  edge?: TestEdge;
  connected?: boolean;
  fetch?: typeof globalThis.fetch;
  storage?: StorageLike;
} = {}) => {
  if (connected) saveEdgeSettings(edgeSettings);
  const make = vi.fn((settings: EdgeSettings | undefined) =>
    testBackend({ settings, kv, edge, fetch, ...(storage ? { storage } : {}) }),
  );
  render(<App backend={make} />);
  const backend = (): Backend => make.mock.results[0]!.value as Backend;
  return { kv, edge, make, backend, user: userEvent.setup() };
};

/**
 * A replica that synced `acc-1` (Ada Lovelace's, with the deposits) with a Worker, and the
 * tab that did it: another tab of the same browser from then on.
 */
const syncedAccount = async (deposits: number[] = []) => {
  const { kv, edge, tab } = syncedReplica();
  const { id } = await seedAccount(tab.ledger, { id: 'acc-1', deposits });
  await tab.store.sync.syncNow();
  return { kv, edge, tab, id };
};

/** A replica that syncs with a Worker, and a tab of it to act from. */
const syncedReplica = () => {
  const kv = createMemoryKv();
  const edge = createTestEdge();
  return { kv, edge, tab: otherTab(kv, edge) };
};

/** Seeds a synced account and opens the app on its page. */
const renderAccount = async (deposits: number[] = []) => {
  const { kv, edge, tab, id } = await syncedAccount(deposits);
  location.hash = `#/account/${id}`;
  const rendered = renderApp({ kv, edge });
  await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
  return { ...rendered, tab, id };
};

const balance = () => screen.getByTestId('balance').textContent;
const version = () => screen.getByTestId('version').textContent;
const syncTitle = () => screen.queryByTestId('sync-title')?.textContent;
/** The region under the header that announces the offline banner and a new connection. */
const statusRegion = () => screen.getAllByRole('status')[0]!;
const syncBar = () => screen.getByRole('region', { name: 'Sync status' });
const amountInput = () => screen.getByRole('textbox', { name: /^Amount/ });
const button = (name: string) => screen.getByRole('button', { name });

/** Waits until this device has nothing left to sync (after a change was seen on the page). */
const allSynced = (backend: () => Backend) =>
  waitFor(async () => {
    expect((await backend().agent.status()).pending).toBe(0);
    expect(syncTitle()).toBe('Synced');
  }, SYNC);

/** The cell texts of a table's body rows (a pending event's version without its mark). */
const tableRows = (name: RegExp) =>
  within(screen.getByRole('table', { name }))
    .getAllByRole('row')
    .slice(1)
    .map((row) =>
      within(row)
        .getAllByRole('cell')
        .map((cell, i) => (i === 0 ? cell.firstChild?.textContent : cell.textContent)),
    );

/** The timeline's rows, newest first: version, event, details, time, user, correlation. */
const timelineRows = () => tableRows(/events? of #/);

/** The versions the timeline marks "not synced". */
const unsyncedVersions = () =>
  within(screen.getByRole('table', { name: /events? of #/ }))
    .queryAllByText('not synced')
    .map((mark) => mark.closest('tr')!.firstElementChild!.firstChild?.textContent);

/** The device goes offline (as the browser says it), until the returned function is called. */
const goOffline = () => {
  const onLine = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
  fireEvent(window, new Event('offline'));
  return () => {
    onLine.mockReturnValue(true);
    fireEvent(window, new Event('online'));
  };
};

beforeEach(() => {
  location.hash = '';
  localStorage.clear();
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  location.hash = '';
  localStorage.clear();
});

describe('accounts', () => {
  it('opens an account, lands on its page and syncs it', async () => {
    const { user, edge, backend } = renderApp();
    await screen.findByText('No accounts yet: open one above.');

    await user.type(screen.getByRole('textbox', { name: 'Owner' }), 'Ada Lovelace');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Currency' }), 'GBP');
    await user.click(button('Open account'));

    await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
    expect(location.hash).toMatch(/^#\/account\/[0-9a-f]{8}$/);
    const id = location.hash.split('/').at(-1)!;
    expect(balance()).toBe(formatMoney(0, 'GBP'));
    expect(version()).toBe('1');
    expect(screen.getByTestId('status').textContent).toBe('open');
    expect(screen.getByRole('textbox', { name: 'Amount (GBP)' })).toBeTruthy();
    const [opened] = timelineRows();
    expect(opened!.slice(0, 3)).toEqual(['1', 'AccountOpened', 'opened for Ada Lovelace in GBP']);
    expect(opened![4]).toBe('alice');

    // The Worker has it: another device sees it.
    await allSynced(backend);
    const other = edge.device('bob');
    await other.store.sync.syncNow();
    expect((await other.ledger.load(id)).state.owner).toBe('Ada Lovelace');

    // And it is listed when going back to the accounts.
    const nav = screen.getByRole('navigation', { name: 'Views' });
    await user.click(within(nav).getByRole('link', { name: 'Accounts' }));
    const link = await screen.findByRole('link', { name: 'Ada Lovelace' });
    expect(link.getAttribute('href')).toBe(`#/account/${id}`);
    expect(location.hash).toBe('#/');
  });

  it('refuses an account without an owner’s name', async () => {
    const { user, backend } = renderApp();
    await screen.findByText('No accounts yet: open one above.');
    await user.type(screen.getByRole('textbox', { name: 'Owner' }), '   ');
    await user.click(button('Open account'));
    expect((await screen.findByRole('alert')).textContent).toBe('The owner’s name is required.');
    expect(location.hash).toBe('');
    expect(await backend().ledger.listAccounts()).toEqual([]);
  });

  it('deposits as the user in “Acting as” and shows balance, version and the event', async () => {
    const { user, tab } = await renderAccount();
    expect(version()).toBe('1');

    const actingAs = screen.getByRole('textbox', { name: 'Acting as' });
    expect((actingAs as HTMLInputElement).value).toBe('alice');
    await user.clear(actingAs);
    await user.type(actingAs, 'bob');

    await user.type(amountInput(), '25.50');
    await user.click(button('Deposit'));

    await screen.findByText(`Deposited ${euros(2550)}, now at version 2.`);
    expect(balance()).toBe(euros(2550));
    expect(version()).toBe('2');
    expect((amountInput() as HTMLInputElement).value).toBe('');
    const [deposited] = timelineRows();
    expect(deposited!.slice(0, 3)).toEqual(['2', 'FundsDeposited', `+${euros(2550)}`]);
    expect(deposited![4]).toBe('bob');
    expect(timelineRows()).toHaveLength(2);

    const [, stored] = await tab.ledger.stream('acc-1').read();
    expect(stored!.metadata.userId).toBe('bob');
    expect(deposited![5]).toBe(stored!.metadata.correlationId!.slice(0, 8));
    expect(localStorage.getItem('eventkv-demo:user')).toBe('bob');
  });

  it('deposits on Enter and withdraws', async () => {
    const { user } = await renderAccount([1000]);
    await user.type(amountInput(), '4{Enter}');
    await screen.findByText(`Deposited ${euros(400)}, now at version 3.`);
    await user.type(amountInput(), '12,5');
    await user.click(button('Withdraw'));
    await screen.findByText(`Withdrew ${euros(1250)}, now at version 4.`);
    expect(balance()).toBe(euros(150));
    expect(timelineRows()[0]!.slice(0, 3)).toEqual(['4', 'FundsWithdrawn', `−${euros(1250)}`]);
  });

  it('refuses an over-withdrawal with an alert and keeps the version', async () => {
    const { user, tab } = await renderAccount([1000]);
    expect(version()).toBe('2');
    await user.type(amountInput(), '20');
    await user.click(button('Withdraw'));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(`Insufficient funds: the balance is ${euros(1000)}.`);
    expect(version()).toBe('2');
    expect(balance()).toBe(euros(1000));
    expect(timelineRows()).toHaveLength(2);
    expect(await tab.ledger.stream('acc-1').version()).toBe(2);
  });

  it('asks for an amount it can read', async () => {
    const { user } = await renderAccount([1000]);
    await user.type(amountInput(), '1.234');
    await user.click(button('Deposit'));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Enter an amount such as 25 or 12.50.',
    );
    expect(version()).toBe('2');
  });

  it('closes an empty account, after which no command is offered', async () => {
    const { user } = await renderAccount();
    await user.click(button('Close account'));
    await screen.findByText('Account closed, now at version 2.');
    expect(screen.getByTestId('status').textContent).toBe('closed');
    expect(screen.queryByRole('button', { name: 'Deposit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Simulate a concurrent edit' })).toBeNull();
  });

  /** The version conflict's alert box. */
  const conflictBox = () =>
    screen
      .getAllByRole('alert')
      .find((alert) => within(alert).queryByRole('heading', { name: 'Version conflict' }))!;

  it('shows a version conflict, reloads the account in place and lets the command be decided again', async () => {
    const { user, tab } = await renderAccount([1000]);
    const simulate = button('Simulate a concurrent edit');
    expect(simulate.getAttribute('aria-pressed')).toBe('false');
    await user.click(simulate);
    expect(simulate.getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByText(/^Armed: your next command races/)).toBeTruthy();

    await user.type(amountInput(), '5');
    await user.click(button('Deposit'));

    await screen.findByRole('heading', { name: 'Version conflict' });
    expect(conflictBox().textContent).toContain(
      'You acted on version 2, but the account is now at version 3: someone else appended first.',
    );
    expect(conflictBox().textContent).toContain('Nothing of your command was saved.');
    expect(simulate.getAttribute('aria-pressed')).toBe('false');

    // Only the other writer's event was stored.
    const stored = await tab.ledger.stream('acc-1').read();
    expect(stored.map((e) => [e.version, e.metadata.userId])).toEqual([
      [1, 'alice'],
      [2, 'alice'],
      [3, 'another-device'],
    ]);

    // The account is reloaded on the spot: the page shows the other writer's deposit, the
    // conflict says so, and the commands are offered again, with no page reload.
    await within(conflictBox()).findByText(
      'The account is reloaded at version 3: check the balance and decide again.',
    );
    expect(version()).toBe('3');
    expect(balance()).toBe(euros(1100));
    expect(timelineRows()[0]!.slice(0, 3)).toEqual(['3', 'FundsDeposited', `+${euros(100)}`]);
    expect(timelineRows()[0]![4]).toBe('another-device');
    for (const name of ['Deposit', 'Withdraw', 'Close account', 'Simulate a concurrent edit']) {
      expect(button(name).hasAttribute('disabled'), name).toBe(false);
    }
    expect(within(conflictBox()).queryByRole('button')).toBeNull();

    // The amount typed is kept: deciding again on the reloaded account succeeds, and the
    // conflict is over.
    expect((amountInput() as HTMLInputElement).value).toBe('5');
    await user.click(button('Deposit'));
    await screen.findByText(`Deposited ${euros(500)}, now at version 4.`);
    expect(balance()).toBe(euros(1600));
    expect(screen.queryByRole('heading', { name: 'Version conflict' })).toBeNull();
  });

  it('offers to reload by hand when the reload after a conflict fails', async () => {
    const { user, backend } = await renderAccount([1000]);
    const load = vi
      .spyOn(backend().ledger, 'load')
      .mockRejectedValueOnce(new Error('The disk is gone.'));

    await user.click(button('Simulate a concurrent edit'));
    await user.type(amountInput(), '5');
    await user.click(button('Deposit'));

    const reload = await screen.findByRole('button', { name: 'Reload and decide again' });
    expect(load).toHaveBeenCalledTimes(1);
    expect(screen.getByText('The disk is gone.')).toBeTruthy();
    // Decided on a state known to be stale, commands wait for the reload.
    expect(button('Deposit').hasAttribute('disabled')).toBe(true);
    expect(button('Withdraw').hasAttribute('disabled')).toBe(true);

    await user.click(reload);
    await within(conflictBox()).findByText(/^The account is reloaded at version 3/);
    expect(screen.queryByText('The disk is gone.')).toBeNull();
    expect(button('Deposit').hasAttribute('disabled')).toBe(false);
    await user.click(button('Deposit'));
    await screen.findByText(`Deposited ${euros(500)}, now at version 4.`);
  });

  it('takes a snapshot of what the Worker confirmed and reloads from it', async () => {
    const { user, tab, backend } = await renderAccount([1000]);
    expect(screen.getByTestId('load-info').textContent).toBe(
      'Last load: no snapshot, 2 events replayed from the start.',
    );
    expect(screen.getByTestId('snapshots').textContent).toBe('Snapshots: none yet');

    await user.click(button('Take snapshot'));
    await screen.findByText('Snapshot saved at version 2: the next load starts from it.');
    expect(screen.getByTestId('snapshots').textContent).toBe('Snapshots: version 2');
    expect(await tab.ledger.snapshotVersions('acc-1')).toEqual([2]);

    await user.type(amountInput(), '1');
    await user.click(button('Deposit'));
    await screen.findByText(`Deposited ${euros(100)}, now at version 3.`);
    await allSynced(backend);

    await user.click(button('Reload'));
    await screen.findByText('Last load: the snapshot at version 2, then 1 event replayed.');
    expect(version()).toBe('3');
    expect(balance()).toBe(euros(1100));
    expect(timelineRows().map((row) => row[0])).toEqual(['3', '2', '1']);
    expect(screen.getByRole('table', { name: '3 events of #acc-1, newest first' })).toBeTruthy();

    await user.click(button('Take snapshot'));
    await screen.findByText('Snapshot saved at version 3: the next load starts from it.');
    expect(screen.getByTestId('snapshots').textContent).toBe('Snapshots: versions 2 and 3');
  });

  it('refuses a snapshot before anything is synced, and snapshots the confirmed version after', async () => {
    const kv = createMemoryKv();
    const edge = createTestEdge();
    await seedAccount(otherTab(kv).ledger, { deposits: [1000] });
    edge.reachable = false;
    location.hash = '#/account/acc-1';
    const { user, backend } = renderApp({ kv, edge });
    await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
    expect(unsyncedVersions()).toEqual(['2', '1']);

    await user.click(button('Take snapshot'));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Nothing of this account is synced yet: snapshot it after a sync.',
    );
    expect(await backend().ledger.snapshotVersions('acc-1')).toEqual([]);

    // Synced, then a deposit the Worker has not confirmed yet: the snapshot leaves it out.
    edge.reachable = true;
    await user.click(within(syncBar()).getByRole('button', { name: 'Sync now' }));
    await allSynced(backend);
    const release = edge.holdPushes();
    await user.type(amountInput(), '1');
    await user.click(button('Deposit'));
    await screen.findByText(`Deposited ${euros(100)}, now at version 3.`);
    await user.click(button('Take snapshot'));
    await screen.findByText('Snapshot saved at version 2: the next load starts from it.');
    expect(await backend().ledger.latestSnapshot('acc-1')).toMatchObject({
      version: 2,
      state: { balance: 1000 },
    });
    release();
  });

  it('captions a timeline of one event in the singular', async () => {
    await renderAccount();
    expect(screen.getByRole('table', { name: '1 event of #acc-1' })).toBeTruthy();
    expect(screen.getByTestId('load-info').textContent).toBe(
      'Last load: no snapshot, 1 event replayed from the start.',
    );
  });

  it('styles closing, which cannot be undone, apart from the other commands', async () => {
    await renderAccount();
    expect(button('Close account').classList.contains('danger')).toBe(true);
    for (const name of ['Deposit', 'Withdraw', 'Simulate a concurrent edit', 'Reload']) {
      expect(button(name).classList.contains('danger'), name).toBe(false);
    }
  });

  it('says so when the account does not exist', async () => {
    location.hash = '#/account/nope';
    const { user } = renderApp();
    await screen.findByText('There is no account #nope here.');
    await user.click(button('Back to the accounts'));
    await screen.findByText('No accounts yet: open one above.');
    expect(location.hash).toBe('#/');
  });

  it('opens the addresses of the earlier two modes on the one store', async () => {
    const { kv, edge } = await syncedAccount([1000]);
    location.hash = '#/edge/account/acc-1';
    renderApp({ kv, edge });
    await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
    expect(balance()).toBe(euros(1000));
    location.hash = '#/local/audit';
    await screen.findByRole('heading', { name: 'Audit' });
  });
});

describe('the account list', () => {
  it('shows each account’s balance, and which are closed', async () => {
    const { kv, edge, tab } = syncedReplica();
    await seedAccount(tab.ledger, { id: 'ada', deposits: [1000, 250] });
    await seedAccount(tab.ledger, { id: 'grace', owner: 'Grace Hopper', currency: 'USD' });
    await tab.ledger.execute(
      await tab.ledger.load('grace'),
      { kind: 'close' },
      { userId: 'alice' },
    );
    await tab.store.sync.syncNow();
    renderApp({ kv, edge });

    const item = async (owner: string) =>
      (await screen.findByRole('link', { name: owner })).closest('li')!;
    const ada = await item('Ada Lovelace');
    await waitFor(() => expect(within(ada).getByText(euros(1250))).toBeTruthy());
    expect(within(ada).queryByText('closed')).toBeNull();
    expect(ada.textContent).toMatch(/#ada · opened \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const grace = await item('Grace Hopper');
    expect(within(grace).getByText(formatMoney(0, 'USD'))).toBeTruthy();
    expect(within(grace).getByText('closed')).toBeTruthy();
    // Everything is on the Worker: nothing is marked.
    expect(screen.queryByText(/not synced$/)).toBeNull();
  });

  it('marks the changes not synced yet, and an account only on this device', async () => {
    const { kv, edge, tab } = await syncedAccount([1000]);
    await tab.ledger.execute(
      await tab.ledger.load('acc-1'),
      { kind: 'deposit', amount: 1 },
      {
        userId: 'alice',
      },
    );
    await tab.ledger.execute(
      await tab.ledger.load('acc-1'),
      { kind: 'deposit', amount: 2 },
      {
        userId: 'alice',
      },
    );
    await seedAccount(tab.ledger, { id: 'new', owner: 'Grace Hopper' });
    edge.reachable = false;
    const { user } = renderApp({ kv, edge });

    const ada = (await screen.findByRole('link', { name: 'Ada Lovelace' })).closest('li')!;
    await within(ada).findByText('2 changes not synced');
    const grace = (await screen.findByRole('link', { name: 'Grace Hopper' })).closest('li')!;
    expect(within(grace).getByText('1 change not synced')).toBeTruthy();

    edge.reachable = true;
    await user.click(within(syncBar()).getByRole('button', { name: 'Sync now' }));
    await waitFor(() => expect(screen.queryByText(/not synced$/)).toBeNull(), SYNC);
  });

  it('follows a balance changed elsewhere', async () => {
    const { kv, edge, tab } = await syncedAccount([1000]);
    renderApp({ kv, edge });
    const ada = (await screen.findByRole('link', { name: 'Ada Lovelace' })).closest('li')!;
    await within(ada).findByText(euros(1000));
    await tab.ledger.execute(
      await tab.ledger.load('acc-1'),
      { kind: 'withdraw', amount: 400 },
      { userId: 'carol' },
    );
    await within(ada).findByText(euros(600));
  });
});

describe('live updates', () => {
  it('lists an account opened elsewhere (another tab) as it appears', async () => {
    const kv = createMemoryKv();
    renderApp({ kv, connected: false });
    await screen.findByText('No accounts yet: open one above.');
    const { ledger } = otherTab(kv);
    await seedAccount(ledger, { id: 'grace', owner: 'Grace Hopper', currency: 'USD' });
    const link = await screen.findByRole('link', { name: 'Grace Hopper' });
    expect(link.getAttribute('href')).toBe('#/account/grace');
    await seedAccount(ledger, { id: 'alan', owner: 'Alan Turing' });
    await screen.findByRole('link', { name: 'Alan Turing' });
    const names = within(screen.getByRole('list'))
      .getAllByRole('link')
      .map((a) => a.textContent);
    expect(names).toEqual(['Alan Turing', 'Grace Hopper']);
  });

  it('applies another tab’s appends to the open account', async () => {
    const { tab } = await renderAccount([1000]);
    await tab.ledger.execute(
      await tab.ledger.load('acc-1'),
      { kind: 'withdraw', amount: 300 },
      { userId: 'carol' },
    );
    await waitFor(() => expect(version()).toBe('3'));
    expect(balance()).toBe(euros(700));
    expect(timelineRows()[0]!.slice(0, 3)).toEqual(['3', 'FundsWithdrawn', `−${euros(300)}`]);
    expect(timelineRows()[0]![4]).toBe('carol');
  });

  it('applies another device’s changes as the Worker pokes this one', async () => {
    const { edge } = await renderAccount([1000]);
    await waitFor(() => expect(syncBar().textContent).toContain('as they happen'), SYNC);
    const bob = edge.device('bob');
    await bob.store.sync.syncNow();
    await bob.ledger.execute(
      await bob.ledger.load('acc-1'),
      { kind: 'deposit', amount: 250 },
      { userId: 'bob' },
    );
    await bob.store.sync.syncNow();
    await waitFor(() => expect(version()).toBe('3'), SYNC);
    expect(balance()).toBe(euros(1250));
    expect(timelineRows()[0]!.slice(0, 5)).toEqual([
      '3',
      'FundsDeposited',
      `+${euros(250)}`,
      expect.any(String),
      'bob',
    ]);
    expect(unsyncedVersions()).toEqual([]);
  });
});

describe('the sync status bar', () => {
  it('says “this device only” without a Worker, and points to the set-up', async () => {
    const { user } = renderApp({ connected: false });
    await screen.findByText('No accounts yet: open one above.');
    await waitFor(() => expect(syncTitle()).toBe('This device only'));
    expect(syncBar().textContent).toContain('No Worker is set up: accounts live in this browser.');
    expect(within(syncBar()).queryByRole('button', { name: 'Sync now' })).toBeNull();

    await user.type(screen.getByRole('textbox', { name: 'Owner' }), 'Ada Lovelace');
    await user.click(button('Open account'));
    await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
    await waitFor(() => expect(syncTitle()).toBe('1 change on this device only'));
    expect(syncBar().textContent).toContain('Unsynced for less than a minute.');
    expect(syncBar().textContent).toContain('may clear a site’s storage when space runs low');
    expect(screen.getByTestId('unsynced').textContent).toBe(
      'Includes 1 change made on this device and not synced yet.',
    );

    await user.click(within(syncBar()).getByRole('link', { name: 'Set up a Worker' }));
    await screen.findByRole('heading', { name: 'Sync with a Worker' });
    expect(location.hash).toBe('#/sync');
  });

  it('counts the changes on their way, then says synced, and live', async () => {
    const edge = createTestEdge();
    const release = edge.holdPushes();
    const { user, backend } = renderApp({ edge });
    await user.type(await screen.findByRole('textbox', { name: 'Owner' }), 'Ada Lovelace');
    await user.click(button('Open account'));
    await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
    await user.type(amountInput(), '10');
    await user.click(button('Deposit'));
    await screen.findByText(`Deposited ${euros(1000)}, now at version 2.`);

    await waitFor(() => expect(syncTitle()).toBe('Pending · 2 changes'), SYNC);
    expect(syncBar().getAttribute('data-tone')).toBe('pending');
    expect(syncBar().textContent).toContain('On the way to the Worker. Unsynced for');
    expect(unsyncedVersions()).toEqual(['2', '1']);
    expect(screen.getByTestId('unsynced').textContent).toBe(
      'Includes 2 changes made on this device and not synced yet.',
    );

    release();
    await allSynced(backend);
    expect(syncBar().getAttribute('data-tone')).toBe('synced');
    await waitFor(() => expect(syncBar().textContent).toContain('as they happen'), SYNC);
    // The page's marks go with the sync that confirms them.
    await waitFor(() => expect(unsyncedVersions()).toEqual([]));
    expect(screen.queryByTestId('unsynced')).toBeNull();
  });

  it('says the browser keeps the changes when it granted persistent storage', async () => {
    const edge = createTestEdge();
    const release = edge.holdPushes();
    const storage = fakeStorage(true);
    const { user } = renderApp({ edge, storage });
    await user.type(await screen.findByRole('textbox', { name: 'Owner' }), 'Ada Lovelace');
    await user.click(button('Open account'));
    await waitFor(() => expect(syncTitle()).toBe('Pending · 1 change'), SYNC);
    await waitFor(() =>
      expect(syncBar().textContent).toContain('The browser keeps this site’s storage.'),
    );
    expect(storage.asked).toBe(1);
    release();
  });

  it('goes offline and back: the changes made meanwhile are kept, then synced', async () => {
    const { user, edge, backend } = await renderAccount([1000]);
    await allSynced(backend);
    const status = statusRegion();
    expect(within(status).queryByText('You are offline.')).toBeNull();

    const backOnline = goOffline();
    await waitFor(() => expect(syncTitle()).toBe('Offline'));
    expect(syncBar().getAttribute('data-tone')).toBe('offline');
    const banner = (await within(status).findByText('You are offline.')).closest('p')!;
    expect(banner.classList.contains('offline')).toBe(true);
    expect(banner.textContent).toBe(
      'You are offline. The app keeps working: changes are kept on this device and sync when the network is back.',
    );

    await user.type(amountInput(), '3');
    await user.click(button('Withdraw'));
    await screen.findByText(`Withdrew ${euros(300)}, now at version 3.`);
    await waitFor(() => expect(syncTitle()).toBe('Offline · 1 change kept here'));
    expect(syncBar().textContent).toContain('changes sync when the network is back');
    expect(unsyncedVersions()).toEqual(['3']);
    const bob = edge.device('bob');
    await bob.store.sync.syncNow();
    expect((await bob.ledger.load('acc-1')).version).toBe(2);

    backOnline();
    await waitFor(() => expect(screen.queryByText('You are offline.')).toBeNull());
    await allSynced(backend);
    await bob.store.sync.syncNow();
    expect((await bob.ledger.load('acc-1')).state.balance).toBe(700);
  });

  it('says the sync fails while the Worker cannot be reached, and “Sync now” tries again', async () => {
    const { kv, edge, tab } = await syncedAccount([1000]);
    await tab.ledger.execute(
      await tab.ledger.load('acc-1'),
      { kind: 'deposit', amount: 1 },
      {
        userId: 'alice',
      },
    );
    edge.reachable = false;
    const { user, backend } = renderApp({ kv, edge });
    await waitFor(() => expect(syncTitle()).toBe('Sync failing · 1 change waiting'), SYNC);
    expect(syncBar().getAttribute('data-tone')).toBe('error');
    expect(syncBar().textContent).toContain('the request failed. Retrying on its own.');

    edge.reachable = true;
    const syncNow = vi.spyOn(backend().agent, 'syncNow');
    await user.click(within(syncBar()).getByRole('button', { name: 'Sync now' }));
    expect(syncNow).toHaveBeenCalledTimes(1);
    await allSynced(backend);
    const bob = edge.device('bob');
    await bob.store.sync.syncNow();
    expect((await bob.ledger.load('acc-1')).version).toBe(3);
  });

  it('keeps “Sync now” disabled while the run it started is under way', async () => {
    const { kv, edge } = await syncedAccount([1000]);
    const { user, backend } = renderApp({ kv, edge });
    await allSynced(backend);
    const release = edge.holdPushes();
    await otherTab(kv, edge).ledger.execute(
      await backend().ledger.load('acc-1'),
      { kind: 'deposit', amount: 1 },
      { userId: 'alice' },
    );
    const syncNow = within(syncBar()).getByRole('button', { name: 'Sync now' });
    await user.click(syncNow);
    expect(syncNow.hasAttribute('disabled')).toBe(true);
    release();
    await waitFor(() => expect(syncNow.hasAttribute('disabled')).toBe(false), SYNC);
    await allSynced(backend);
  });
});

describe('connecting to a Worker', () => {
  it('through the settings form: refuses bad input, then syncs what was kept here', async () => {
    location.hash = '#/sync';
    const { user, edge, make, backend } = renderApp({ connected: false });
    await screen.findByRole('heading', { name: 'Sync with a Worker' });
    const endpoint = screen.getByRole('textbox', { name: 'Endpoint URL' }) as HTMLInputElement;
    const tokenField = screen.getByRole('textbox', { name: 'Token' });
    expect(endpoint.value).toBe('http://127.0.0.1:8787');
    await seedAccount(backend().ledger, { deposits: [500] });
    await waitFor(() => expect(syncTitle()).toBe('2 changes on this device only'));

    // Text that is no URL at all is refused by the URL field itself.
    await user.clear(endpoint);
    await user.type(endpoint, 'not a url');
    await user.type(tokenField, token());
    await user.click(button('Connect'));
    expect(screen.getByRole('heading', { name: 'Sync with a Worker' })).toBeTruthy();
    expect(loadEdgeSettings()).toBeUndefined();

    await user.clear(endpoint);
    await user.type(endpoint, 'ftp://127.0.0.1:8787');
    await user.click(button('Connect'));
    expect((await screen.findByRole('alert')).textContent).toBe('Use an http or https URL.');

    await user.clear(endpoint);
    await user.type(endpoint, 'http://127.0.0.1:8787');
    await user.clear(tokenField);
    await user.click(button('Connect'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Paste a token.'));
    expect(loadEdgeSettings()).toBeUndefined();
    expect(backend().settings).toBeUndefined();

    await user.type(tokenField, ` ${token()} `);
    await user.click(button('Connect'));
    expect(loadEdgeSettings()).toEqual({ endpoint: 'http://127.0.0.1:8787', token: token() });
    await screen.findByText('Syncing with the Worker at http://127.0.0.1:8787.');
    expect(screen.queryByRole('heading', { name: 'Sync with a Worker' })).toBeNull();
    expect(screen.getByText('Change the Worker or the token')).toBeTruthy();
    // The same store, now syncing: what it kept reaches the Worker.
    await allSynced(backend);
    expect(make).toHaveBeenCalledTimes(1);
    const bob = edge.device('bob');
    await bob.store.sync.syncNow();
    expect((await bob.ledger.load('acc-1')).state.balance).toBe(500);
  });

  it('through the link `pnpm start` prints: saved, taken out of the address, the Worker’s accounts shown', async () => {
    const edge = createTestEdge();
    const other = edge.device('bob');
    await seedAccount(other.ledger, { owner: 'Remote Ada', userId: 'bob' });
    await other.store.sync.syncNow();
    location.hash = `#connect=${encodeURIComponent('http://127.0.0.1:8787')}&token=${token()}`;
    const { make } = renderApp({ edge, connected: false });

    // The link was opened to sync: the page lands on the accounts, and says so.
    expect(location.hash).toBe('#/');
    expect(loadEdgeSettings()).toEqual(edgeSettings);
    expect(make).toHaveBeenCalledWith(edgeSettings);
    const link = await screen.findByRole('link', { name: 'Remote Ada' }, SYNC);
    expect(link.getAttribute('href')).toBe('#/account/acc-1');
    const status = statusRegion();
    expect(
      within(status).getByText('Syncing with the Worker at http://127.0.0.1:8787.'),
    ).toBeTruthy();
    expect(within(syncBar()).getByRole('button', { name: 'Sync now' })).toBeTruthy();
  });

  it('when another tab connects (the storage event), and not for other keys', async () => {
    const kv = createMemoryKv();
    const edge = createTestEdge();
    await seedAccount(otherTab(kv).ledger);
    renderApp({ kv, edge, connected: false });
    await waitFor(() => expect(syncTitle()).toBe('1 change on this device only'));

    localStorage.setItem('eventkv-demo:user', 'carol');
    fireEvent(window, new StorageEvent('storage', { key: 'eventkv-demo:user' }));
    localStorage.setItem(SETTINGS_KEY, 'not settings');
    fireEvent(window, new StorageEvent('storage', { key: SETTINGS_KEY }));
    expect(syncTitle()).toBe('1 change on this device only');
    expect(edge.requests).toEqual([]);

    saveEdgeSettings(edgeSettings);
    fireEvent(window, new StorageEvent('storage', { key: SETTINGS_KEY }));
    await waitFor(() => expect(syncTitle()).toBe('Synced'), SYNC);
    expect(within(syncBar()).getByRole('button', { name: 'Sync now' })).toBeTruthy();
    const bob = edge.device('bob');
    await waitFor(async () => {
      await bob.store.sync.syncNow();
      expect((await bob.ledger.load('acc-1')).version).toBe(1);
    }, SYNC);
  });

  it('shows why the Worker refuses a token', async () => {
    const { kv, edge, tab } = await syncedAccount();
    await tab.ledger.execute(
      await tab.ledger.load('acc-1'),
      { kind: 'deposit', amount: 1 },
      {
        userId: 'alice',
      },
    );
    location.hash = '#/sync';
    renderApp({ kv, edge, fetch: unauthorizedFetch });
    await waitFor(() => expect(syncTitle()).toBe('Sync refused · 1 change waiting'), SYNC);
    expect(syncBar().textContent).toContain(
      'The Worker refused the token (UNAUTHORIZED): set a new one on the Sync page.',
    );
    const lastError = screen.getByText('Last error').nextElementSibling!;
    expect(lastError.textContent).toContain('The bearer token is invalid.');
  });
});

describe('the Sync page', () => {
  const details = () =>
    Object.fromEntries(
      within(screen.getByRole('region', { name: 'Sync' }))
        .getAllByRole('definition')
        .map((dd) => [dd.previousElementSibling!.textContent, dd.textContent]),
    );

  it('shows where this device stands with the Worker', async () => {
    const { kv, edge } = await syncedAccount([1000]);
    location.hash = '#/sync';
    const { backend } = renderApp({ kv, edge, storage: fakeStorage(false) });
    await screen.findByRole('heading', { name: 'Sync' });
    const nav = screen.getByRole('navigation', { name: 'Views' });
    expect(within(nav).getByRole('link', { name: 'Sync' }).getAttribute('aria-current')).toBe(
      'page',
    );
    await allSynced(backend);
    await waitFor(() => expect(details().Connection).toMatch(/^live/), SYNC);
    await waitFor(() => expect(details()['Last synced']).not.toBe('never'));
    expect(details()).toMatchObject({
      Worker: 'http://127.0.0.1:8787',
      'This tab': 'syncs for every tab of this browser',
      Connection: 'live: the Worker pokes this device when there is news',
      'Changes not synced': '0',
      'Oldest unsynced change': '—',
      'Conflicts to settle': '0',
      Storage: 'best effort: the browser may clear it when space runs low',
      'Last error': 'none',
    });
    expect(details()['Last synced']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('says there is no Worker, and that persistence cannot be told, without one', async () => {
    location.hash = '#/sync';
    renderApp({ connected: false });
    await screen.findByRole('heading', { name: 'Sync' });
    await waitFor(() => expect(details().Worker).toBe('none: accounts stay in this browser'));
    expect(details()).toMatchObject({
      Connection: 'none',
      'Changes not synced': '0',
      Storage: 'unknown',
      'Last synced': 'never',
    });
  });
});

describe('a conflict between two devices', () => {
  /**
   * Ada's account (100.00) on this device and on Bob's; this device withdraws `mine` while
   * offline, Bob withdraws `theirs` and syncs first; then this device is back online.
   */
  const conflicted = async (mine: string, theirs: number) => {
    const { user, edge, backend, tab } = await renderAccount([10_000]);
    const bob = edge.device('bob');
    await bob.store.sync.syncNow();
    await allSynced(backend);

    const backOnline = goOffline();
    await user.type(amountInput(), mine);
    await user.click(button('Withdraw'));
    await screen.findByText(/^Withdrew .*, now at version 3\.$/);
    await waitFor(() => expect(syncTitle()).toBe('Offline · 1 change kept here'));
    await bob.ledger.execute(
      await bob.ledger.load('acc-1'),
      { kind: 'withdraw', amount: theirs },
      { userId: 'bob' },
    );
    await bob.store.sync.syncNow();

    backOnline();
    await waitFor(() => expect(syncTitle()).toBe('Conflict on 1 account'), SYNC);
    await screen.findByRole('heading', { name: 'Changed on another device' });
    return { user, bob, backend, tab };
  };

  const panel = () =>
    screen
      .queryAllByRole('alert')
      .find((alert) => within(alert).queryByRole('heading', { name: 'Changed on another device' }));

  it('shows both sides, and retrying on the new balance settles it on both devices', async () => {
    const { user, bob, backend } = await conflicted('30', 2000);
    expect(syncBar().getAttribute('data-tone')).toBe('conflict');
    expect(panel()!.textContent).toContain(
      `While you were offline, the account changed elsewhere: −${euros(2000)} by bob.`,
    );
    expect(screen.getByTestId('conflict-balance').textContent).toBe(euros(8000));
    expect(panel()!.textContent).toContain(`Waiting on this device: Withdraw ${euros(3000)}.`);
    // Commands wait until the conflict is settled.
    for (const name of ['Deposit', 'Withdraw', 'Close account']) {
      expect(button(name).hasAttribute('disabled'), name).toBe(true);
    }

    await user.click(button('Retry on the new balance'));
    await screen.findByText('Your changes were decided again on the new balance: they sync next.');
    expect(panel()).toBeUndefined();
    expect(balance()).toBe(euros(5000));
    expect(version()).toBe('4');
    await allSynced(backend);
    await bob.store.sync.syncNow();
    const onBob = await bob.ledger.load('acc-1');
    expect(onBob).toMatchObject({ version: 4, state: { balance: 5000 } });
    expect((await bob.ledger.stream('acc-1').read()).map((e) => e.metadata.userId)).toEqual([
      'alice',
      'alice',
      'bob',
      'alice',
    ]);
  });

  it('says why a retry is refused by a rule, and dropping the changes settles it', async () => {
    const { user, bob, backend } = await conflicted('80', 5000);
    expect(screen.getByTestId('conflict-balance').textContent).toBe(euros(5000));

    await user.click(button('Retry on the new balance'));
    await within(panel()!).findByText(`Insufficient funds: the balance is ${euros(5000)}.`);
    expect(syncTitle()).toBe('Conflict on 1 account');

    await user.click(button('Drop my changes'));
    await screen.findByText(
      'Your changes were dropped: the account is as the other device left it.',
    );
    expect(panel()).toBeUndefined();
    expect(balance()).toBe(euros(5000));
    expect(version()).toBe('3');
    expect(unsyncedVersions()).toEqual([]);
    await allSynced(backend);
    await bob.store.sync.syncNow();
    expect((await bob.ledger.load('acc-1')).version).toBe(3);
  });

  it('marks the account in the list', async () => {
    const { user } = await conflicted('30', 2000);
    const nav = screen.getByRole('navigation', { name: 'Views' });
    await user.click(within(nav).getByRole('link', { name: 'Accounts' }));
    const ada = (await screen.findByRole('link', { name: 'Ada Lovelace' })).closest('li')!;
    await within(ada).findByText('conflict');
    expect(within(ada).queryByText(/not synced$/)).toBeNull();
  });
});

describe('audit', () => {
  /** Accounts synced with the Worker: the audit queries what it confirmed. */
  const seedAudit = async () => {
    // Synced after each step: a sync pushes per account, and the Worker's log (which the
    // audit reads) keeps the order of the pushes.
    const { kv, edge, tab } = await syncedAccount([1000, 200]);
    await seedAccount(tab.ledger, { id: 'acc-2', owner: 'Bob', deposits: [50], userId: 'bob' });
    await tab.store.sync.syncNow();
    const account = await tab.ledger.load('acc-1');
    await tab.ledger.execute(account, { kind: 'withdraw', amount: 100 }, { userId: 'bob' });
    await tab.store.sync.syncNow();
    return { kv, edge, tab };
  };
  const resultRows = () => tableRows(/^\d+ events? by/);

  it('finds the events of a user and of a type', async () => {
    const { kv, edge } = await seedAudit();
    const { user } = renderApp({ kv, edge });
    const views = screen.getByRole('navigation', { name: 'Views' });
    await user.click(within(views).getByRole('link', { name: 'Audit' }));
    await screen.findByRole('heading', { name: 'Audit' });
    expect(location.hash).toBe('#/audit');

    // The user field starts as the one acting.
    const userField = screen.getByRole('textbox', { name: 'User' }) as HTMLInputElement;
    expect(userField.value).toBe('alice');
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '3 events by user “alice”, oldest first' });
    // Accounts by their owner, with the id beside it, and amounts in their account's
    // currency (the audit view looks the accounts up).
    expect(resultRows().map((row) => row.slice(1, 5))).toEqual([
      ['Ada Lovelace #acc-1', '1', 'AccountOpened', 'opened for Ada Lovelace in EUR'],
      ['Ada Lovelace #acc-1', '2', 'FundsDeposited', `+${euros(1000)}`],
      ['Ada Lovelace #acc-1', '3', 'FundsDeposited', `+${euros(200)}`],
    ]);
    const accountLink = screen.getAllByRole('link', { name: 'Ada Lovelace' })[0]!;
    expect(accountLink.getAttribute('href')).toBe('#/account/acc-1');

    await user.clear(userField);
    await user.type(userField, 'bob');
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '3 events by user “bob”, oldest first' });
    expect(resultRows().map((row) => [row[1], row[3], row[5]])).toEqual([
      ['Bob #acc-2', 'AccountOpened', 'bob'],
      ['Bob #acc-2', 'FundsDeposited', 'bob'],
      ['Ada Lovelace #acc-1', 'FundsWithdrawn', 'bob'],
    ]);

    await user.selectOptions(screen.getByRole('combobox', { name: 'By' }), 'eventType');
    const type = screen.getByRole('combobox', { name: 'Event type' }) as HTMLSelectElement;
    expect(type.value).toBe('FundsDeposited');
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '3 events by type “FundsDeposited”, oldest first' });
    await user.selectOptions(type, 'FundsWithdrawn');
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '1 event by type “FundsWithdrawn”, oldest first' });
    expect(resultRows()[0]!.slice(1, 6)).toEqual([
      'Ada Lovelace #acc-1',
      '4',
      'FundsWithdrawn',
      `−${euros(100)}`,
      'bob',
    ]);
  });

  it('covers what the Worker confirmed: a change not synced yet is not found', async () => {
    const kv = createMemoryKv();
    await seedAccount(otherTab(kv).ledger, { id: 'here' });
    location.hash = '#/audit';
    const { user } = renderApp({ kv, connected: false });
    await user.click(await screen.findByRole('button', { name: 'Search' }));
    await screen.findByRole('table', { name: '0 events by user “alice”, oldest first' });
  });

  it('names an account opened after the view was shown', async () => {
    const kv = createMemoryKv();
    const edge = createTestEdge();
    location.hash = '#/audit';
    const { user } = renderApp({ kv, edge });
    await screen.findByRole('heading', { name: 'Audit' });
    const tab = otherTab(kv, edge);
    await seedAccount(tab.ledger, { id: 'late', owner: 'Late Comer' });
    await tab.store.sync.syncNow();
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '1 event by user “alice”, oldest first' });
    expect(resultRows()[0]![1]).toBe('Late Comer #late');
  });

  it('shows bare ids and amounts when the accounts cannot be listed', async () => {
    const { kv, edge } = await seedAudit();
    location.hash = '#/audit';
    const { user, backend } = renderApp({ kv, edge });
    vi.spyOn(backend().ledger, 'listAccounts').mockRejectedValue(new Error('no index'));
    await user.click(await screen.findByRole('button', { name: 'Search' }));
    await screen.findByRole('table', { name: '3 events by user “alice”, oldest first' });
    expect(resultRows()[1]!.slice(1, 5)).toEqual([
      '#acc-1',
      '2',
      'FundsDeposited',
      `+${formatMoney(1000, '')}`,
    ]);
    expect(screen.getAllByRole('link', { name: '#acc-1' })[0]!.getAttribute('href')).toBe(
      '#/account/acc-1',
    );
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('keeps to the time range and refuses a range that ends before it starts', async () => {
    const { kv, edge } = await seedAudit();
    location.hash = '#/audit';
    const { user } = renderApp({ kv, edge });
    const from = await screen.findByLabelText('From');
    const until = screen.getByLabelText('Until');

    fireEvent.input(from, { target: { value: '2026-01-02T00:00' } });
    fireEvent.input(until, { target: { value: '2026-01-01T00:00' } });
    await user.click(button('Search'));
    expect((await screen.findByRole('alert')).textContent).toBe('“Until” must be after “From”.');
    expect(screen.queryByRole('table')).toBeNull();

    // A range in the past holds none of today's events.
    fireEvent.input(from, { target: { value: '2001-01-01T00:00' } });
    fireEvent.input(until, { target: { value: '2001-01-02T00:00' } });
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '0 events by user “alice”, oldest first' });
    expect(screen.queryByRole('alert')).toBeNull();

    fireEvent.input(until, { target: { value: '' } });
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '3 events by user “alice”, oldest first' });
  });

  it('asks for a user', async () => {
    location.hash = '#/audit';
    const { user } = renderApp();
    await user.clear(await screen.findByRole('textbox', { name: 'User' }));
    await user.click(button('Search'));
    expect((await screen.findByRole('alert')).textContent).toBe('Enter a user.');
  });

  it('loads more than a page', async () => {
    const { kv, edge } = await syncedAccount(Array.from({ length: 54 }, () => 1));
    location.hash = '#/audit';
    const { user } = renderApp({ kv, edge });
    await user.click(await screen.findByRole('button', { name: 'Search' }));
    await screen.findByRole('table', { name: '50 events by user “alice”, oldest first' });
    await user.click(button('Load more'));
    await screen.findByRole('table', { name: '55 events by user “alice”, oldest first' });
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    expect(resultRows().map((row) => row[2])).toEqual(
      Array.from({ length: 55 }, (_, i) => String(i + 1)),
    );
  });
});
