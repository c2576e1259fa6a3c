import { createMemoryKv, type Kv } from '@eventkv/core';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Backend,
  createEdgeBackend,
  type EdgeSettings,
  loadEdgeSettings,
} from '../src/backends';
import { formatMoney } from '../src/domain';
import { App } from '../src/ui/app';
import {
  edgeSettings,
  memoryBackend,
  memoryLedger,
  seedAccount,
  token,
  unauthorizedFetch,
  unreachableFetch,
} from './support';

const euros = (cents: number) => formatMoney(cents, 'EUR');

/**
 * Renders the app with the in-memory store `kv` as "this browser" and, unless told
 * otherwise, an endpoint that cannot be reached.
 */
const renderApp = ({
  kv = createMemoryKv(),
  edge = (settings: EdgeSettings) => createEdgeBackend(settings, unreachableFetch),
}: {
  kv?: Kv;
  edge?: (settings: EdgeSettings) => Backend;
} = {}) => {
  const local = vi.fn(() => memoryBackend(kv));
  const edgeFactory = vi.fn(edge);
  render(<App local={local} edge={edgeFactory} />);
  return { kv, local, edge: edgeFactory, user: userEvent.setup() };
};

/**
 * Seeds an account and opens the app on its page. The `ledger` returned is another store
 * over the same storage: another tab's.
 */
const renderAccount = async (deposits: number[] = []) => {
  const kv = createMemoryKv();
  const { ledger } = memoryLedger(kv);
  const { id } = await seedAccount(ledger, { id: 'acc-1', deposits });
  location.hash = `#/local/account/${id}`;
  const rendered = renderApp({ kv });
  await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
  return { ...rendered, ledger, id };
};

const balance = () => screen.getByTestId('balance').textContent;
const version = () => screen.getByTestId('version').textContent;
const amountInput = () => screen.getByRole('textbox', { name: /^Amount/ });
const button = (name: string) => screen.getByRole('button', { name });

/** The cell texts of a table's body rows. */
const tableRows = (name: RegExp) =>
  within(screen.getByRole('table', { name }))
    .getAllByRole('row')
    .slice(1)
    .map((row) =>
      within(row)
        .getAllByRole('cell')
        .map((cell) => cell.textContent),
    );

/** The timeline's rows, newest first: version, event, details, time, user, correlation. */
const timelineRows = () => tableRows(/events? of #/);

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

describe('this browser’s accounts', () => {
  it('opens an account and lands on its page', async () => {
    const { user, kv } = renderApp();
    expect(screen.getByText('Events are stored in memory.')).toBeTruthy();
    await screen.findByText('No accounts yet: open one above.');

    await user.type(screen.getByRole('textbox', { name: 'Owner' }), 'Ada Lovelace');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Currency' }), 'GBP');
    await user.click(button('Open account'));

    await screen.findByRole('heading', { name: 'Ada Lovelace’s account' });
    expect(location.hash).toMatch(/^#\/local\/account\/[0-9a-f]{8}$/);
    const id = location.hash.split('/').at(-1)!;
    expect(balance()).toBe(formatMoney(0, 'GBP'));
    expect(version()).toBe('1');
    expect(screen.getByTestId('status').textContent).toBe('open');
    expect(screen.getByRole('textbox', { name: 'Amount (GBP)' })).toBeTruthy();
    const [opened] = timelineRows();
    expect(opened!.slice(0, 3)).toEqual(['1', 'AccountOpened', 'opened for Ada Lovelace in GBP']);
    expect(opened![4]).toBe('alice');

    // It is stored, and listed when going back to the accounts.
    const { ledger } = memoryLedger(kv);
    expect((await ledger.load(id)).state.owner).toBe('Ada Lovelace');
    const nav = screen.getByRole('navigation', { name: 'Views' });
    await user.click(within(nav).getByRole('link', { name: 'Accounts' }));
    const link = await screen.findByRole('link', { name: 'Ada Lovelace' });
    expect(link.getAttribute('href')).toBe(`#/local/account/${id}`);
  });

  it('refuses an account without an owner’s name', async () => {
    const { user, kv } = renderApp();
    await screen.findByText('No accounts yet: open one above.');
    await user.type(screen.getByRole('textbox', { name: 'Owner' }), '   ');
    await user.click(button('Open account'));
    expect((await screen.findByRole('alert')).textContent).toBe('The owner’s name is required.');
    expect(location.hash).toBe('');
    expect(await memoryLedger(kv).ledger.listAccounts()).toEqual([]);
  });

  it('deposits as the user in “Acting as” and shows balance, version and the event', async () => {
    const { user, ledger } = await renderAccount();
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

    const [, stored] = await ledger.stream('acc-1').read();
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
    const { user, ledger } = await renderAccount([1000]);
    expect(version()).toBe('2');
    await user.type(amountInput(), '20');
    await user.click(button('Withdraw'));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(`Insufficient funds: the balance is ${euros(1000)}.`);
    expect(version()).toBe('2');
    expect(balance()).toBe(euros(1000));
    expect(timelineRows()).toHaveLength(2);
    expect(await ledger.stream('acc-1').version()).toBe(2);
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

  /** The conflict's alert box. */
  const conflictBox = () =>
    screen
      .getAllByRole('alert')
      .find((alert) => within(alert).queryByRole('heading', { name: 'Version conflict' }))!;

  it('shows a version conflict, reloads the account in place and lets the command be decided again', async () => {
    const { user, ledger } = await renderAccount([1000]);
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
    const stored = await ledger.stream('acc-1').read();
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
    const { user, local } = await renderAccount([1000]);
    const { ledger } = local.mock.results[0]!.value as Backend;
    const load = vi.spyOn(ledger, 'load').mockRejectedValueOnce(new Error('The disk is gone.'));

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

  it('takes a snapshot and reloads from it', async () => {
    const { user, ledger } = await renderAccount([1000]);
    expect(screen.getByTestId('load-info').textContent).toBe(
      'Last load: no snapshot, 2 events replayed from the start.',
    );
    expect(screen.getByTestId('snapshots').textContent).toBe('Snapshots: none yet');

    await user.click(button('Take snapshot at version 2'));
    await screen.findByText('Snapshot saved at version 2: the next load starts from it.');
    expect(screen.getByTestId('snapshots').textContent).toBe('Snapshots: version 2');
    expect(await ledger.snapshotVersions('acc-1')).toEqual([2]);

    await user.type(amountInput(), '1');
    await user.click(button('Deposit'));
    await screen.findByRole('button', { name: 'Take snapshot at version 3' });

    await user.click(button('Reload'));
    await screen.findByText('Last load: the snapshot at version 2, then 1 event replayed.');
    expect(version()).toBe('3');
    expect(balance()).toBe(euros(1100));
    expect(timelineRows().map((row) => row[0])).toEqual(['3', '2', '1']);
    expect(screen.getByRole('table', { name: '3 events of #acc-1, newest first' })).toBeTruthy();

    await user.click(button('Take snapshot at version 3'));
    await waitFor(() =>
      expect(screen.getByTestId('snapshots').textContent).toBe('Snapshots: versions 2 and 3'),
    );
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
    location.hash = '#/local/account/nope';
    const { user } = renderApp();
    await screen.findByText('There is no account #nope here.');
    await user.click(button('Back to the accounts'));
    await screen.findByText('No accounts yet: open one above.');
    expect(location.hash).toBe('#/local');
  });
});

describe('the account list', () => {
  it('shows each account’s balance, and which are closed', async () => {
    const kv = createMemoryKv();
    const { ledger } = memoryLedger(kv);
    await seedAccount(ledger, { id: 'ada', deposits: [1000, 250] });
    await seedAccount(ledger, { id: 'grace', owner: 'Grace Hopper', currency: 'USD' });
    await ledger.execute(await ledger.load('grace'), { kind: 'close' }, { userId: 'alice' });
    renderApp({ kv });

    const item = async (owner: string) =>
      (await screen.findByRole('link', { name: owner })).closest('li')!;
    const ada = await item('Ada Lovelace');
    await waitFor(() => expect(within(ada).getByText(euros(1250))).toBeTruthy());
    expect(within(ada).queryByText('closed')).toBeNull();
    expect(ada.textContent).toMatch(/#ada · opened \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const grace = await item('Grace Hopper');
    expect(within(grace).getByText(formatMoney(0, 'USD'))).toBeTruthy();
    expect(within(grace).getByText('closed')).toBeTruthy();
  });

  it('follows a balance changed elsewhere', async () => {
    const kv = createMemoryKv();
    const { ledger } = memoryLedger(kv);
    await seedAccount(ledger, { id: 'ada', deposits: [1000] });
    renderApp({ kv });
    const ada = (await screen.findByRole('link', { name: 'Ada Lovelace' })).closest('li')!;
    await within(ada).findByText(euros(1000));
    await ledger.execute(
      await ledger.load('ada'),
      { kind: 'withdraw', amount: 400 },
      { userId: 'carol' },
    );
    await within(ada).findByText(euros(600));
  });
});

describe('live updates', () => {
  it('lists an account opened elsewhere (another tab) as it appears', async () => {
    const kv = createMemoryKv();
    renderApp({ kv });
    await screen.findByText('No accounts yet: open one above.');
    const otherTab = memoryLedger(kv).ledger;
    await seedAccount(otherTab, { id: 'grace', owner: 'Grace Hopper', currency: 'USD' });
    const link = await screen.findByRole('link', { name: 'Grace Hopper' });
    expect(link.getAttribute('href')).toBe('#/local/account/grace');
    await seedAccount(otherTab, { id: 'alan', owner: 'Alan Turing' });
    await screen.findByRole('link', { name: 'Alan Turing' });
    const names = within(screen.getByRole('list'))
      .getAllByRole('link')
      .map((a) => a.textContent);
    expect(names).toEqual(['Alan Turing', 'Grace Hopper']);
  });

  it('applies another tab’s appends to the open account', async () => {
    const { ledger } = await renderAccount([1000]);
    // `ledger` is another store over the same storage: another tab's.
    await ledger.execute(
      await ledger.load('acc-1'),
      { kind: 'withdraw', amount: 300 },
      {
        userId: 'carol',
      },
    );
    await waitFor(() => expect(version()).toBe('3'));
    expect(balance()).toBe(euros(700));
    expect(timelineRows()[0]!.slice(0, 3)).toEqual(['3', 'FundsWithdrawn', `−${euros(300)}`]);
    expect(timelineRows()[0]![4]).toBe('carol');
  });
});

describe('audit', () => {
  const seedAudit = async (kv: Kv) => {
    const { ledger } = memoryLedger(kv);
    await seedAccount(ledger, { id: 'acc-1', deposits: [1000, 200], userId: 'alice' });
    await seedAccount(ledger, { id: 'acc-2', owner: 'Bob', deposits: [50], userId: 'bob' });
    const account = await ledger.load('acc-1');
    await ledger.execute(account, { kind: 'withdraw', amount: 100 }, { userId: 'bob' });
    return ledger;
  };
  const resultRows = () => tableRows(/^\d+ events? by/);

  it('finds the events of a user and of a type', async () => {
    const kv = createMemoryKv();
    await seedAudit(kv);
    const { user } = renderApp({ kv });
    const views = screen.getByRole('navigation', { name: 'Views' });
    await user.click(within(views).getByRole('link', { name: 'Audit' }));
    await screen.findByRole('heading', { name: 'Audit' });
    expect(location.hash).toBe('#/local/audit');

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
    expect(accountLink.getAttribute('href')).toBe('#/local/account/acc-1');

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

  it('names an account opened after the view was shown', async () => {
    const kv = createMemoryKv();
    location.hash = '#/local/audit';
    const { user } = renderApp({ kv });
    await screen.findByRole('heading', { name: 'Audit' });
    await seedAccount(memoryLedger(kv).ledger, { id: 'late', owner: 'Late Comer' });
    await user.click(button('Search'));
    await screen.findByRole('table', { name: '1 event by user “alice”, oldest first' });
    expect(resultRows()[0]![1]).toBe('Late Comer #late');
  });

  it('shows bare ids and amounts when the accounts cannot be listed', async () => {
    const kv = createMemoryKv();
    await seedAudit(kv);
    location.hash = '#/local/audit';
    const { user, local } = renderApp({ kv });
    const { ledger } = local.mock.results[0]!.value as Backend;
    vi.spyOn(ledger, 'listAccounts').mockRejectedValue(new Error('no index'));
    await user.click(await screen.findByRole('button', { name: 'Search' }));
    await screen.findByRole('table', { name: '3 events by user “alice”, oldest first' });
    expect(resultRows()[1]!.slice(1, 5)).toEqual([
      '#acc-1',
      '2',
      'FundsDeposited',
      `+${formatMoney(1000, '')}`,
    ]);
    expect(screen.getAllByRole('link', { name: '#acc-1' })[0]!.getAttribute('href')).toBe(
      '#/local/account/acc-1',
    );
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('keeps to the time range and refuses a range that ends before it starts', async () => {
    const kv = createMemoryKv();
    await seedAudit(kv);
    location.hash = '#/local/audit';
    const { user } = renderApp({ kv });
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
    location.hash = '#/local/audit';
    const { user } = renderApp();
    await user.clear(await screen.findByRole('textbox', { name: 'User' }));
    await user.click(button('Search'));
    expect((await screen.findByRole('alert')).textContent).toBe('Enter a user.');
  });

  it('loads more than a page', async () => {
    const kv = createMemoryKv();
    const { ledger } = memoryLedger(kv);
    await seedAccount(ledger, { id: 'busy', deposits: Array.from({ length: 54 }, () => 1) });
    location.hash = '#/local/audit';
    const { user } = renderApp({ kv });
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

describe('the Worker endpoint', () => {
  it('asks for an endpoint, refuses bad input and reports an unreachable endpoint', async () => {
    location.hash = '#/edge';
    const { user, edge } = renderApp();
    await screen.findByRole('heading', { name: 'Connect to a Worker endpoint' });
    expect(screen.getByText('No Worker endpoint is set up.')).toBeTruthy();
    const endpoint = screen.getByRole('textbox', { name: 'Endpoint URL' }) as HTMLInputElement;
    const tokenField = screen.getByRole('textbox', { name: 'Token' });
    expect(endpoint.value).toBe('http://127.0.0.1:8787');

    // Text that is no URL at all is refused by the URL field itself.
    await user.clear(endpoint);
    await user.type(endpoint, 'not a url');
    await user.type(tokenField, token());
    await user.click(button('Connect'));
    expect(screen.getByRole('heading', { name: 'Connect to a Worker endpoint' })).toBeTruthy();
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
    expect(edge).not.toHaveBeenCalled();
    expect(loadEdgeSettings()).toBeUndefined();

    await user.type(tokenField, ` ${token()} `);
    await user.click(button('Connect'));
    const alert = await screen.findByText('Endpoint unreachable.', { exact: false });
    expect(alert.closest('[role="alert"]')!.textContent).toContain(
      'The endpoint http://127.0.0.1:8787 is unreachable.',
    );
    expect(edge).toHaveBeenCalledWith({ endpoint: 'http://127.0.0.1:8787', token: token() });
    expect(loadEdgeSettings()).toEqual({ endpoint: 'http://127.0.0.1:8787', token: token() });
    expect(
      screen.getByText('Events are stored in the Worker at http://127.0.0.1:8787.'),
    ).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Connect to a Worker endpoint' })).toBeNull();
    expect(screen.getByText('Endpoint settings')).toBeTruthy();
  });

  it('keeps this browser’s accounts working while the endpoint is unreachable', async () => {
    localStorage.setItem('eventkv-demo:edge', JSON.stringify(edgeSettings));
    const kv = createMemoryKv();
    await seedAccount(memoryLedger(kv).ledger, { owner: 'Local Ada' });
    location.hash = '#/edge/account/acc-1';
    const { user } = renderApp({ kv });
    await screen.findByText('Endpoint unreachable.', { exact: false });
    const stores = screen.getByRole('navigation', { name: 'Store' });
    await user.click(within(stores).getByRole('link', { name: 'This browser' }));
    await screen.findByRole('link', { name: 'Local Ada' });
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('asks for a new token when the endpoint refuses it', async () => {
    localStorage.setItem('eventkv-demo:edge', JSON.stringify(edgeSettings));
    location.hash = '#/edge';
    renderApp({ edge: (settings) => createEdgeBackend(settings, unauthorizedFetch) });
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The endpoint refused the token (UNAUTHORIZED): mint a new one and reconnect.',
    );
  });

  it('takes the endpoint handed over in the address, removes it from there and shows the Worker’s accounts', async () => {
    location.hash = `#connect=${encodeURIComponent('http://127.0.0.1:8787')}&token=${token()}`;
    const kv = createMemoryKv();
    await seedAccount(memoryLedger(kv).ledger, { owner: 'Remote Ada' });
    const { user, edge, local } = renderApp({
      edge: (settings) => ({
        ...memoryBackend(kv),
        mode: 'edge',
        label: `the Worker at ${settings.endpoint}`,
        endpoint: settings.endpoint,
      }),
    });
    // The link was opened to use the Worker: the page lands on its accounts, and says so.
    expect(location.hash).toBe('#/edge');
    expect(loadEdgeSettings()).toEqual(edgeSettings);
    const link = await screen.findByRole('link', { name: 'Remote Ada' });
    expect(link.getAttribute('href')).toBe('#/edge/account/acc-1');
    expect(edge).toHaveBeenCalledTimes(1);
    const status = screen.getByRole('status');
    expect(
      within(status).getByText('Connected to the Worker at http://127.0.0.1:8787.'),
    ).toBeTruthy();
    expect(status.textContent).toContain(
      'Events are stored in the Worker at http://127.0.0.1:8787.',
    );
    expect(screen.queryByRole('heading', { name: 'Connect to a Worker endpoint' })).toBeNull();
    const stores = screen.getByRole('navigation', { name: 'Store' });
    expect(
      within(stores).getByRole('link', { name: 'Worker endpoint' }).getAttribute('aria-current'),
    ).toBe('page');

    // Back in this browser, the notice is gone; this browser's store is another one.
    await user.click(within(stores).getByRole('link', { name: 'This browser' }));
    await screen.findByText('Events are stored in memory.');
    expect(screen.queryByText(/^Connected to/)).toBeNull();
    expect(local).toHaveBeenCalledTimes(1);
  });

  it('says it is connected after the settings are entered by hand', async () => {
    location.hash = '#/edge';
    const kv = createMemoryKv();
    const { user } = renderApp({
      edge: (settings) => ({ ...memoryBackend(kv), mode: 'edge', label: settings.endpoint }),
    });
    await user.type(await screen.findByRole('textbox', { name: 'Token' }), token());
    await user.click(button('Connect'));
    await screen.findByText(/^Connected to the Worker at http:\/\/127\.0\.0\.1:8787\./);
    await screen.findByText('No accounts yet: open one above.');
  });
});

describe('offline', () => {
  const goOffline = () => {
    const onLine = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    fireEvent(window, new Event('offline'));
    return () => {
      onLine.mockReturnValue(true);
      fireEvent(window, new Event('online'));
    };
  };

  it('shows a banner, in the status region, that the app keeps working on this device', async () => {
    const { local } = renderApp();
    await screen.findByText('No accounts yet: open one above.');
    const status = screen.getByRole('status');
    expect(within(status).queryByText('You are offline.')).toBeNull();

    const backOnline = goOffline();
    const banner = (await within(status).findByText('You are offline.')).closest('p')!;
    expect(banner.classList.contains('offline')).toBe(true);
    expect(banner.textContent).toBe(
      'You are offline. The app keeps working: changes to this browser’s accounts are kept on this device.',
    );
    backOnline();
    await waitFor(() => expect(screen.queryByText('You are offline.')).toBeNull());
    expect(local).toHaveBeenCalledTimes(1);
  });

  it('shows the banner on the Worker’s screens too', async () => {
    localStorage.setItem('eventkv-demo:edge', JSON.stringify(edgeSettings));
    location.hash = '#/edge';
    renderApp();
    goOffline();
    const banner = (await within(screen.getByRole('status')).findByText('You are offline.'))
      .parentElement!;
    expect(banner.textContent).toContain('changes to this browser’s accounts are kept on this');
  });
});
