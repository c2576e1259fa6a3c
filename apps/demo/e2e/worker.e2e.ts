import { describe, expect, it } from 'vitest';
import { LOCAL_DEV_SECRET, mintLocalToken } from '../../worker/scripts/local-dev.mjs';
import {
  balance,
  deposit,
  freePort,
  openAccount,
  sharedWorker,
  syncDetail,
  synced,
  syncTitle,
  text,
  timelineRows,
  useChromium,
  version,
  withdraw,
} from './helpers';

// The Worker the demo syncs with: what reaches it, what comes from it, and what the page
// says and does when it cannot be reached or refuses the token.

const chromium = useChromium();
const { url: workerUrl, token } = sharedWorker();

interface WireEvent {
  type: string;
  version: number;
  data: Record<string, unknown>;
  metadata: { userId?: string; aggregateId: string };
}

/** An account's events as the Worker has them, read over plain HTTP from here. */
const eventsOnWorker = async (id: string): Promise<WireEvent[]> => {
  const response = await fetch(`${workerUrl}/v1/demo/streams/BankAccount/${id}/events`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  // The wire format is JSON (Dates and other non-JSON values as `{"$date": ...}` tags).
  return ((await response.json()) as { events: WireEvent[] }).events;
};

/** Appends to an account on the Worker over its HTTP API, as a server of the bank would. */
const appendOnWorker = async (id: string, expectedVersion: number, events: object[]) => {
  const response = await fetch(`${workerUrl}/v1/demo/streams/BankAccount/${id}/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ events, expectedVersion }),
  });
  expect(response.status).toBe(201);
};

/** Sets another Worker or token in the Sync page's form. */
const changeSettings = async (
  page: Parameters<typeof syncTitle>[0],
  settings: { endpoint?: string; token?: string },
) => {
  await page.getByRole('link', { name: 'Sync', exact: true }).click();
  await page.getByText('Change the Worker or the token').click();
  if (settings.endpoint !== undefined)
    await page.getByLabel('Endpoint URL').fill(settings.endpoint);
  if (settings.token !== undefined) await page.getByLabel('Token').fill(settings.token);
  await page.getByRole('button', { name: 'Connect' }).click();
};

const waitingMarks = async (page: Parameters<typeof syncTitle>[0]) =>
  (await timelineRows(page)).filter((row) => row.pending).length;

describe('the Worker', () => {
  it('gets the ledger through the link `pnpm start` prints, and its own writes come back live', async () => {
    const { page } = await chromium.connect();
    // The settings are kept, the token leaves the address bar, and the page says so.
    await page.waitForURL(/#\/$/);
    expect(page.url()).not.toContain('token');
    await page.getByRole('status').getByText(`Syncing with the Worker at ${workerUrl}.`).waitFor();
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    expect(await syncDetail(page, 'Worker')).toBe(workerUrl);
    await expect
      .poll(() => syncDetail(page, 'Connection'))
      .toBe('live: the Worker pokes this device when there is news');

    const id = await openAccount(page, 'Ada Worker');
    await deposit(page, '12.50');
    await synced(page);
    // The events are on the Worker, as the page made them.
    const stored = await eventsOnWorker(id);
    expect(stored.map((event) => [event.version, event.type, event.metadata.userId])).toEqual([
      [1, 'AccountOpened', 'alice'],
      [2, 'FundsDeposited', 'alice'],
    ]);
    expect(stored[1]!.data).toEqual({ amount: 1250 });

    // Another client of the Worker appends: the Worker pokes the page, which pulls.
    await appendOnWorker(id, 2, [
      { type: 'FundsDeposited', data: { amount: 10_000 }, metadata: { userId: 'payroll' } },
    ]);
    await expect.poll(() => version(page)).toBe(3);
    expect(await balance(page)).toBe('€112.50');
    expect((await timelineRows(page))[0]).toMatchObject({
      version: 3,
      type: 'FundsDeposited',
      user: 'payroll',
      pending: false,
    });

    // A reload reads the replica: the same account, nothing waiting.
    await page.reload();
    await expect.poll(() => version(page)).toBe(3);
    expect(await balance(page)).toBe('€112.50');
    await synced(page);
  });

  it('cannot be reached: the page says the sync is failing, and commands keep working', async () => {
    const { page } = await chromium.connect();
    const id = await openAccount(page, 'Grace Unreachable');
    await deposit(page, '20');
    await synced(page);

    // A Worker address where nothing runs.
    const dead = `http://127.0.0.1:${await freePort()}`;
    await changeSettings(page, { endpoint: dead });
    await page.getByRole('status').getByText(`Syncing with the Worker at ${dead}.`).waitFor();
    await expect.poll(() => syncTitle(page)).toMatch(/^Sync failing/);
    expect(await syncDetail(page, 'Worker')).toBe(dead);
    expect(await syncDetail(page, 'Last error')).toMatch(/the request failed/);

    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    await page.getByRole('link', { name: 'Grace Unreachable' }).click();
    await expect.poll(() => version(page)).toBe(2);
    await withdraw(page, '5');
    await deposit(page, '1');
    await expect.poll(() => balance(page)).toBe('€16.00');
    await expect.poll(() => syncTitle(page)).toBe('Sync failing · 2 changes waiting');
    expect(await text(page.locator('.sync .detail'))).toContain('Retrying on its own.');
    expect(await waitingMarks(page)).toBe(2);
    expect((await eventsOnWorker(id)).length).toBe(2);

    // The right address again: what waited goes up.
    await changeSettings(page, { endpoint: workerUrl });
    await synced(page);
    expect((await eventsOnWorker(id)).map((event) => event.type)).toEqual([
      'AccountOpened',
      'FundsDeposited',
      'FundsWithdrawn',
      'FundsDeposited',
    ]);
  });

  it('refuses a token it did not sign: nothing syncs until a good one is set', async () => {
    const forged = await mintLocalToken('demo', {
      secret: `${LOCAL_DEV_SECRET}-not-this-one`,
      subject: 'alice',
    });
    const { page } = await chromium.connect({ url: workerUrl, token: forged });
    const id = await openAccount(page, 'Mallory Refused');
    await deposit(page, '9');
    await expect.poll(() => syncTitle(page)).toBe('Sync refused · 2 changes waiting');
    await expect.poll(() => balance(page)).toBe('€9.00');
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    expect(await syncDetail(page, 'Last error')).toMatch(/Invalid bearer token/);
    const missing = await fetch(`${workerUrl}/v1/demo/streams/BankAccount/${id}/version`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await missing.json()).toEqual({ version: 0 });

    // A token the Worker signed: the account and its deposit reach it.
    await changeSettings(page, { token });
    await synced(page);
    expect((await eventsOnWorker(id)).map((event) => event.type)).toEqual([
      'AccountOpened',
      'FundsDeposited',
    ]);
  });
});
