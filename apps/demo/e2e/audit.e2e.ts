import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  accountIdOf,
  actAs,
  alert,
  deposit,
  openAccount,
  screenshot,
  synced,
  text,
  useChromium,
  useOwnWorker,
  version,
} from './helpers';

const chromium = useChromium();
// The file's own Worker: the queries see only the events written here.
const worker = useOwnWorker();

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** A `datetime-local` value; the contexts run in UTC, so it is the ISO time to the minute. */
const local = (ms: number): string => new Date(ms).toISOString().slice(0, 16);

const results = (page: Page) =>
  page.getByRole('region', { name: 'Audit', exact: true }).getByRole('table');

/** The result rows as `<owner> #<account> v<version> <type> <user>`, in the order shown. */
const resultRows = async (page: Page): Promise<string[]> =>
  results(page)
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => {
        const [, account, v, type, , user] = [...row.querySelectorAll('td')].map(
          (td) => td.textContent?.trim() ?? '',
        );
        return `${account} v${v} ${type} ${user}`;
      }),
    );

const search = async (page: Page, caption: RegExp): Promise<string[]> => {
  await page.getByRole('button', { name: 'Search' }).click();
  await expect.poll(() => text(results(page).locator('caption'))).toMatch(caption);
  return resultRows(page);
};

describe('the audit view', () => {
  it('finds events by user and by type within a time range', async () => {
    const start = Date.now();
    const { page } = await chromium.connect(worker);
    const first = await openAccount(page, 'Rosalind Franklin');
    await deposit(page, '10');
    await actAs(page, 'bob');
    await deposit(page, '5');
    const second = await openAccount(page, 'Dorothy Hodgkin');
    await deposit(page, '7');
    // Results name an account by its owner, its id beside.
    const rosalind = `Rosalind Franklin #${first}`;
    const dorothy = `Dorothy Hodgkin #${second}`;
    // The queries read what the Worker confirmed.
    await synced(page);

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.waitForURL(/#\/audit$/);
    // "User" starts as whoever is acting.
    expect(await page.getByLabel('User', { exact: true }).inputValue()).toBe('bob');
    expect(await search(page, /^3 events by user “bob”/)).toEqual([
      `${rosalind} v3 FundsDeposited bob`,
      `${dorothy} v1 AccountOpened bob`,
      `${dorothy} v2 FundsDeposited bob`,
    ]);

    await page.getByLabel('User', { exact: true }).fill('alice');
    expect(await search(page, /^2 events by user “alice”/)).toEqual([
      `${rosalind} v1 AccountOpened alice`,
      `${rosalind} v2 FundsDeposited alice`,
    ]);

    await page.getByLabel('User', { exact: true }).fill('nobody');
    expect(await search(page, /^0 events by user “nobody”/)).toEqual([]);

    // By type, in a range around this test.
    await page.getByLabel(/^By/).selectOption({ label: 'Event type' });
    await page.getByLabel(/^Event type/).selectOption('FundsDeposited');
    await page.getByLabel('From').fill(local(start - MINUTE));
    await page.getByLabel('Until').fill(local(Date.now() + 2 * MINUTE));
    expect(await search(page, /^3 events by type “FundsDeposited”/)).toEqual([
      `${rosalind} v2 FundsDeposited alice`,
      `${rosalind} v3 FundsDeposited bob`,
      `${dorothy} v2 FundsDeposited bob`,
    ]);
    await screenshot(page, 'audit.png');

    await page.getByLabel(/^Event type/).selectOption('AccountOpened');
    expect(await search(page, /^2 events by type “AccountOpened”/)).toEqual([
      `${rosalind} v1 AccountOpened alice`,
      `${dorothy} v1 AccountOpened bob`,
    ]);

    // A range that ends before the events: nothing. (Each search here expects another
    // caption than the one before it, so a stale result cannot pass for a fresh one.)
    await page.getByLabel(/^Event type/).selectOption('FundsDeposited');
    await page.getByLabel('From').fill(local(start - 2 * DAY));
    await page.getByLabel('Until').fill(local(start - DAY));
    expect(await search(page, /^0 events by type “FundsDeposited”/)).toEqual([]);
    // One that starts after them: nothing either.
    await page.getByLabel(/^Event type/).selectOption('AccountOpened');
    await page.getByLabel('From').fill(local(Date.now() + 2 * MINUTE));
    await page.getByLabel('Until').fill(local(Date.now() + DAY));
    expect(await search(page, /^0 events by type “AccountOpened”/)).toEqual([]);

    // An inverted range is refused before any query.
    await page.getByLabel('From').fill(local(start));
    await page.getByLabel('Until').fill(local(start - DAY));
    await page.getByRole('button', { name: 'Search' }).click();
    await alert(page, '“Until” must be after “From”.').waitFor();

    // A result links to its account.
    await page.getByLabel('Until').fill('');
    await page.getByLabel('From').fill(local(start - MINUTE));
    await search(page, /^2 events by type “AccountOpened”/);
    const link = results(page).getByRole('link', { name: 'Dorothy Hodgkin' });
    expect(await link.getAttribute('href')).toBe(`#/account/${second}`);
    await link.click();
    await expect.poll(() => version(page)).toBe(2);
    expect(accountIdOf(page)).toBe(second);
  });

  it("covers the database: another device's events, once they reach the Worker", async () => {
    const { page: laptop } = await chromium.connect(worker);
    const { page: phone } = await chromium.connect(worker);
    await actAs(phone, 'marie');
    const id = await openAccount(phone, 'Marie Curie');
    await deposit(phone, '3');
    await synced(phone);

    // The laptop is poked and pulls them (its list shows the account, at version 2), then
    // searches the user who acted on the phone.
    await laptop.getByRole('link', { name: 'Marie Curie' }).click();
    await expect.poll(() => version(laptop)).toBe(2);
    await laptop.getByRole('link', { name: 'Audit' }).click();
    await laptop.getByLabel('User', { exact: true }).fill('marie');
    expect(await search(laptop, /^2 events by user “marie”/)).toEqual([
      `Marie Curie #${id} v1 AccountOpened marie`,
      `Marie Curie #${id} v2 FundsDeposited marie`,
    ]);
  });
});
