import { describe, expect, it } from 'vitest';
import {
  accountIdOf,
  balance,
  deposit,
  openAccount,
  synced,
  timelineRows,
  timelineSummary,
  url,
  useChromium,
  version,
  withdraw,
} from './helpers';

const chromium = useChromium();

describe('two tabs of the same browser', () => {
  it("show each other's appends live, without a reload, and both see them synced", async () => {
    const { page: first, context } = await chromium.connect();
    await openAccount(first, 'Emmy Noether');
    await deposit(first, '10');

    const { page: second } = await chromium.open(first.url(), context);
    await expect.poll(() => version(second)).toBe(2);
    expect(await balance(second)).toBe('€10.00');

    await deposit(first, '5');
    await expect.poll(() => version(second)).toBe(3);
    expect(await balance(second)).toBe('€15.00');
    await expect.poll(() => timelineSummary(second)).toEqual(await timelineSummary(first));

    // And the other way round.
    await withdraw(second, '7');
    await expect.poll(() => version(first)).toBe(4);
    expect(await balance(first)).toBe('€8.00');
    expect(accountIdOf(first)).toBe(accountIdOf(second));
    // One tab syncs for both (either may be the one): both say so, and show no change waiting.
    await synced(first);
    await synced(second);
    const waiting = async (page: typeof first) =>
      (await timelineRows(page)).filter((row) => row.pending).length;
    await expect.poll(() => waiting(first)).toBe(0);
    await expect.poll(() => waiting(second)).toBe(0);
    expect(await timelineRows(first)).toEqual(await timelineRows(second));
  });

  it('list an account opened in the other tab, without a reload', async () => {
    // No Worker set up: the tabs share this browser's IndexedDB only.
    const { page: first, context } = await chromium.open('#/');
    const { page: second } = await chromium.open(url('#/'), context);
    await second.getByText('No accounts yet').waitFor();

    await openAccount(first, 'Sophie Germain', 'CHF');
    const link = second.getByRole('link', { name: 'Sophie Germain' });
    await link.waitFor();
    await link.click();
    await expect.poll(() => version(second)).toBe(1);
    expect(accountIdOf(second)).toBe(accountIdOf(first));
    expect(await balance(second)).toMatch(/^CHF\s0\.00$/);
  });
});
