import { createRequire } from 'node:module';
import type { Page, Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  balance,
  deposit,
  goToAccount,
  openAccount,
  synced,
  syncTitle,
  text,
  useChromium,
  withdraw,
} from './helpers';

const chromium = useChromium();
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: { readonly target: unknown[] }[];
}

/** Runs axe-core on the page (WCAG 2.1 A and AA rules); returns what it found. */
const audit = async (page: Page): Promise<string[]> => {
  await page.addScriptTag({ path: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(options: object): Promise<unknown> } }).axe;
    const result = (await axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })) as { violations: Violation[] };
    return result.violations;
  });
  return violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
};

/** The sync bar's tone (its colour): `synced`, `pending`, `offline`, `conflict`... */
const tone = (page: Page) =>
  page.getByRole('region', { name: 'Sync status' }).getAttribute('data-tone');

describe('accessibility (axe-core, WCAG 2.1 AA)', () => {
  it('finds nothing on the accounts, account, conflict, audit and sync screens', async () => {
    // First on this device only (no Worker set up)...
    const { page: alone } = await chromium.open('#/');
    await alone.getByText('No accounts yet').waitFor();
    expect(await tone(alone)).toBe('local');
    expect(await audit(alone), 'accounts (empty, this device only)').toEqual([]);
    await alone.getByRole('link', { name: 'Set up a Worker' }).click();
    await alone.getByLabel('Endpoint URL').waitFor();
    expect(await audit(alone), 'sync set-up').toEqual([]);

    // ...then synced with the Worker.
    const { page } = await chromium.connect();
    await openAccount(page, 'Evelyn Boyd Granville');
    await deposit(page, '30');
    await synced(page);
    expect(await audit(page), 'account').toEqual([]);

    await page.getByRole('button', { name: 'Simulate a concurrent edit' }).click();
    await page.getByLabel(/Amount/).fill('5');
    await page.getByRole('button', { name: 'Deposit', exact: true }).click();
    await page.getByRole('heading', { name: 'Version conflict' }).waitFor();
    expect(await audit(page), 'version conflict').toEqual([]);

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('table').waitFor();
    expect(await audit(page), 'audit').toEqual([]);

    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    await page.getByText('Change the Worker or the token').click();
    await page.getByLabel('Endpoint URL').waitFor();
    expect(await audit(page), 'sync settings and details').toEqual([]);

    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    // Its balance, the other writer's euro in.
    await page
      .getByRole('listitem')
      .filter({ hasText: 'Evelyn Boyd Granville' })
      .getByText('€31.00')
      .waitFor();
    expect(await audit(page), 'accounts with their balances').toEqual([]);
  });

  it('finds nothing in the sync bar in each of its tones, nor in the conflict panel, light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const a = await chromium.connect(undefined, await chromium.context({ colorScheme }));
      const b = await chromium.connect(undefined, await chromium.context({ colorScheme }));
      await a.page
        .getByRole('status')
        .getByText(/^Syncing with the Worker at/)
        .waitFor();
      const id = await openAccount(a.page, `Dorothy Vaughan ${colorScheme}`);
      await deposit(a.page, '100');
      await synced(a.page);
      // Polled: the Worker's notice of this very deposit may start a pull that shows the
      // bar as syncing for a moment after it first said synced.
      await expect.poll(() => tone(a.page)).toBe('synced');
      expect(await audit(a.page), `synced (${colorScheme})`).toEqual([]);

      // Pending: the push is held on its way; then failing: the pushes fail.
      let pushes: 'hold' | 'fail' | 'pass' = 'hold';
      const held: Route[] = [];
      await a.page.route('**/v1/demo/sync/push', async (route) => {
        if (pushes === 'hold') held.push(route);
        else if (pushes === 'fail') await route.abort('connectionrefused');
        else await route.continue();
      });
      await deposit(a.page, '1');
      await expect.poll(() => syncTitle(a.page)).toBe('Pending · 1 change');
      expect(await tone(a.page)).toBe('pending');
      expect(await audit(a.page), `pending (${colorScheme})`).toEqual([]);

      pushes = 'fail';
      await Promise.all(held.map((route) => route.abort('connectionrefused')));
      await expect.poll(() => syncTitle(a.page)).toBe('Sync failing · 1 change waiting');
      expect(await tone(a.page)).toBe('error');
      expect(await audit(a.page), `failing (${colorScheme})`).toEqual([]);
      pushes = 'pass';
      await a.page.getByRole('button', { name: 'Sync now' }).click();
      await synced(a.page);

      // Offline, on both devices: each withdraws from the balance it saw.
      await goToAccount(b.page, id);
      await expect.poll(() => balance(b.page)).toBe('€101.00');
      await a.context.setOffline(true);
      await b.context.setOffline(true);
      await withdraw(a.page, '30');
      await withdraw(b.page, '20');
      await expect.poll(() => syncTitle(a.page)).toBe('Offline · 1 change kept here');
      await a.page.getByRole('status').getByText('You are offline.').waitFor();
      expect(await tone(a.page)).toBe('offline');
      expect(await audit(a.page), `offline (${colorScheme})`).toEqual([]);

      // Back online, the second meets the first: the conflict, and its panel.
      await a.context.setOffline(false);
      await synced(a.page);
      await b.context.setOffline(false);
      await expect.poll(() => syncTitle(b.page)).toBe('Conflict on 1 account');
      expect(await tone(b.page)).toBe('conflict');
      await expect.poll(() => text(b.page.getByTestId('conflict-balance'))).toBe('€71.00');
      expect(await audit(b.page), `conflict (${colorScheme})`).toEqual([]);
      await b.page.getByRole('button', { name: 'Drop my changes' }).click();
      await synced(b.page);
    }
  });

  it('finds nothing in the dark color scheme on a phone', async () => {
    const context = await chromium.context({
      colorScheme: 'dark',
      viewport: { width: 390, height: 844 },
    });
    const { page } = await chromium.open('#/', context);
    await openAccount(page, 'Dorothy Vaughan');
    await deposit(page, '7');
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click(); // no amount
    await page.getByRole('alert').waitFor();
    expect(await audit(page)).toEqual([]);
  });

  it('can be used with the keyboard alone', async () => {
    const { page } = await chromium.open('#/');
    await page.getByLabel('Owner').focus();
    await page.keyboard.type('Alan Turing');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/account\//);
    await page.getByLabel(/Amount/).focus();
    await page.keyboard.type('12.50');
    // Enter in the amount field deposits.
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('€12.50');
    // Tab reaches Withdraw from the amount field; Space presses it.
    await page.getByLabel(/Amount/).fill('2.50');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Withdraw');
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('€10.00');
  });
});
