import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('README quickstart', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is the code the README shows, verbatim', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const source = await readFile(new URL('./quickstart.ts', import.meta.url), 'utf8');
    const block = readme.match(
      /<!-- quickstart:start -->\n```ts\n([\s\S]*?)```\n<!-- quickstart:end -->/,
    );
    expect(block, 'README.md has a quickstart block between the quickstart markers').not.toBeNull();
    expect(block?.[1]).toBe(source);
  });

  it('runs and prints the replayed history, the balance and the conflict', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    await import('./quickstart.js');
    expect(lines).toEqual([
      'v1 BankAccountCreated {"owner":"Joe Dalton","currency":"EUR"}',
      'v2 FundsDeposited {"amount":1500}',
      'v3 FundsWithdrawn {"amount":500}',
      'balance: 1000 EUR at version 3',
      'conflict: expected version 1, actual 3',
      'snapshot at v3, 1 event(s) after it',
      'balance: 1250 EUR',
      'joe: FundsDeposited, FundsWithdrawn',
    ]);
  });
});
