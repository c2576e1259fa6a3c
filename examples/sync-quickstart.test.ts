import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('README sync quickstart', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is the code the README shows, verbatim', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const source = await readFile(new URL('./sync-quickstart.ts', import.meta.url), 'utf8');
    const block = readme.match(
      /<!-- sync-quickstart:start -->\n```ts\n([\s\S]*?)```\n<!-- sync-quickstart:end -->/,
    );
    expect(block, 'README.md has a sync quickstart block between its markers').not.toBeNull();
    expect(block?.[1]).toBe(source);
  });

  it('runs: offline appends, a conflict, a rebase, and both devices converge', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    await import('./sync-quickstart.js');
    expect(lines).toEqual([
      'phone: v1 Deposited pending',
      'laptop: conflict on 42',
      'phone: v1 Deposited, v2 Withdrawn; balance 70',
      'laptop: v1 Deposited, v2 Withdrawn; balance 70',
      'pending: 0',
    ]);
  });
});
