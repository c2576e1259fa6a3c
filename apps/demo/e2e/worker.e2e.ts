import { createServer } from 'node:net';
import type { Page, Route } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import {
  actAs,
  alert,
  amountInput,
  balance,
  connectUrl,
  deposit,
  openAccount,
  screenshot,
  text,
  timelineSummary,
  url,
  useChromium,
  version,
} from './helpers';

const chromium = useChromium();
const workerUrl = inject('workerUrl');
const token = inject('token');

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

/** A loopback port nothing listens on. */
const closedPort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

/** Where the page says the events are stored. */
const where = (page: Page) => text(page.locator('.where'));

/**
 * Opens the demo with endpoint settings handed over in the address, as `pnpm start` prints
 * it: the page lands on the Worker's accounts and says it is connected.
 */
const connect = async () => {
  const { page, context } = await chromium.open(connectUrl(workerUrl, token));
  // The settings are kept, and the token leaves the address bar.
  await page.waitForURL(/#\/edge$/);
  expect(page.url()).not.toContain('token');
  await page.getByRole('status').getByText(`Connected to the Worker at ${workerUrl}.`).waitFor();
  expect(await where(page)).toBe(`Events are stored in the Worker at ${workerUrl}.`);
  expect(
    await page.getByRole('link', { name: 'Worker endpoint' }).getAttribute('aria-current'),
  ).toBe('page');
  return { page, context };
};

describe('Worker endpoint mode', () => {
  it('keeps accounts on the Worker, and reports an unreachable endpoint', async () => {
    const { page } = await connect();
    const id = await openAccount(page, 'Ada Worker');
    expect(page.url()).toContain(`#/edge/account/${id}`);
    await deposit(page, '12.50');
    await expect.poll(() => balance(page)).toBe('€12.50');

    await page.reload();
    await expect.poll(() => version(page)).toBe(2);
    expect(await balance(page)).toBe('€12.50');
    expect(await timelineSummary(page)).toEqual(['2 FundsDeposited', '1 AccountOpened']);
    await screenshot(page, 'worker-mode.png');

    // The events live on the Worker.
    const stored = await eventsOnWorker(id);
    expect(stored.map((event) => [event.version, event.type, event.metadata.userId])).toEqual([
      [1, 'AccountOpened', 'alice'],
      [2, 'FundsDeposited', 'alice'],
    ]);
    expect(stored[1]!.data).toEqual({ amount: 1250 });

    // Another browser with the same settings sees the account.
    const { page: other } = await connect();
    await other.getByRole('link', { name: 'Ada Worker' }).click();
    await expect.poll(() => version(other)).toBe(2);
    expect(await balance(other)).toBe('€12.50');
    // ...and not in its own IndexedDB.
    await other.getByRole('link', { name: 'This browser' }).click();
    await other.getByText('No accounts yet').waitFor();

    // A dead endpoint is reported as such.
    const dead = `http://127.0.0.1:${await closedPort()}`;
    await page.goto(url('#/edge'));
    await page.getByText('Endpoint settings').click();
    await page.getByLabel('Endpoint URL').fill(dead);
    await page.getByRole('button', { name: 'Connect' }).click();
    const unreachable = alert(page, /^Endpoint unreachable\./);
    await unreachable.waitFor();
    expect(await text(unreachable)).toContain(dead);

    // This browser's accounts keep working meanwhile.
    await page.getByRole('link', { name: 'This browser' }).click();
    await expect.poll(() => where(page)).toBe('Events are stored in this browser (IndexedDB).');
    await openAccount(page, 'Local Meanwhile');
    await deposit(page, '3');
    await expect.poll(() => balance(page)).toBe('€3.00');
    expect(page.url()).toContain('#/local/account/');
  });

  it('refuses a command decided on a stale version from another device', async () => {
    const { page: phone } = await connect();
    const id = await openAccount(phone, 'Two Devices');
    await deposit(phone, '10');

    // The laptop's live tail is held back (a slow network), so it keeps deciding on v2.
    const { page: laptop } = await connect();
    await actAs(laptop, 'bob');
    let holding = false;
    const held: Route[] = [];
    let tailHeld: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      tailHeld = resolve;
    });
    await laptop.route(`${workerUrl}/v1/**`, async (route) => {
      const request = route.request();
      if (holding && request.method() === 'GET' && /\/events\?/.test(request.url())) {
        held.push(route);
        tailHeld();
        return;
      }
      await route.continue();
    });
    await laptop.goto(url(`#/edge/account/${id}`));
    await expect.poll(() => version(laptop)).toBe(2);
    holding = true;
    // The tail polls one read at a time: once one is held, none is under way.
    await firstHeld;

    await deposit(phone, '5');
    await amountInput(laptop).fill('1');
    await laptop.getByRole('button', { name: 'Deposit', exact: true }).click();
    const conflict = alert(laptop, 'Version conflict');
    await conflict.waitFor();
    expect(await text(conflict)).toContain(
      'You acted on version 2, but the account is now at version 3',
    );
    // Its reload waits for the network too: until then, no command is decided on v2.
    expect(await version(laptop)).toBe(2);
    expect(await laptop.getByRole('button', { name: 'Deposit', exact: true }).isDisabled()).toBe(
      true,
    );
    expect((await eventsOnWorker(id)).map((event) => event.metadata.userId)).toEqual([
      'alice',
      'alice',
      'alice',
    ]);

    // The network catches up: the phone's deposit arrives, the laptop decides again.
    holding = false;
    await Promise.all(held.splice(0).map((route) => route.continue()));
    await expect.poll(() => version(laptop)).toBe(3);
    await conflict.getByText('The account is reloaded at version 3').waitFor();
    await deposit(laptop, '1');
    await conflict.waitFor({ state: 'detached' });
    await expect.poll(() => balance(laptop)).toBe('€16.00');
    await expect.poll(() => version(phone)).toBe(4);
    expect(await balance(phone)).toBe('€16.00');
    expect(
      (await eventsOnWorker(id)).map((event) => `${event.version} ${event.metadata.userId}`),
    ).toEqual(['1 alice', '2 alice', '3 alice', '4 bob']);
  });
});
