import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { connectUrl, deposit, openAccount, useChromium } from './helpers';

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

describe('accessibility (axe-core, WCAG 2.1 AA)', () => {
  it('finds nothing on the accounts, account, conflict, audit and endpoint screens', async () => {
    const { page } = await chromium.open('#/local');
    expect(await audit(page), 'accounts (empty)').toEqual([]);

    await openAccount(page, 'Grace Hopper');
    await deposit(page, '30');
    expect(await audit(page), 'account').toEqual([]);

    await page.getByRole('button', { name: 'Simulate a concurrent edit' }).click();
    await page.getByLabel(/Amount/).fill('5');
    await page.getByRole('button', { name: 'Deposit', exact: true }).click();
    await page.getByRole('heading', { name: 'Version conflict' }).waitFor();
    expect(await audit(page), 'conflict').toEqual([]);

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('table').waitFor();
    expect(await audit(page), 'audit').toEqual([]);

    await page.getByRole('link', { name: 'Worker endpoint' }).click();
    await page.getByLabel('Endpoint URL').waitFor();
    expect(await audit(page), 'endpoint').toEqual([]);

    await page.getByRole('link', { name: 'This browser' }).click();
    await page.getByRole('link', { name: 'Grace Hopper' }).waitFor();
    await page.getByText('€31.00').waitFor(); // its balance, the other writer's euro in
    expect(await audit(page), 'accounts with their balances').toEqual([]);
  });

  it('finds nothing in the notices: offline, and connected by the link', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await chromium.context({ colorScheme });
      const { page } = await chromium.open(
        connectUrl(inject('workerUrl'), inject('token')),
        context,
      );
      await page.getByText(/^Connected to the Worker at/).waitFor();
      expect(await audit(page), `connected (${colorScheme})`).toEqual([]);

      await page.getByRole('link', { name: 'This browser' }).click();
      await context.setOffline(true);
      await page.getByText('You are offline.').waitFor();
      expect(await audit(page), `offline (${colorScheme})`).toEqual([]);
      await context.setOffline(false);
    }
  });

  it('finds nothing in the dark color scheme on a phone', async () => {
    const context = await chromium.context({
      colorScheme: 'dark',
      viewport: { width: 390, height: 844 },
    });
    const { page } = await chromium.open('#/local', context);
    await openAccount(page, 'Dorothy Vaughan');
    await deposit(page, '7');
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click(); // no amount
    await page.getByRole('alert').waitFor();
    expect(await audit(page)).toEqual([]);
  });

  it('can be used with the keyboard alone', async () => {
    const { page } = await chromium.open('#/local');
    await page.getByLabel('Owner').focus();
    await page.keyboard.type('Alan Turing');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/local\/account\//);
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
