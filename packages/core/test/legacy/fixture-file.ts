/**
 * How a legacy fixture is made and written, for both generators: its `meta`, the check that
 * the dump really is of the old layout (a generator run against today's sources would dump
 * the new one), and the file itself, encoded with the superjson codec and formatted.
 *
 * Like `scenario.ts`, this runs against the sources of 0f4a16c; in Node only.
 */
import { createSuperjsonCodec } from '../../src/index.js';
import { COMMIT, clock, START } from './scenario.js';

/** The fixture's `meta`: what it holds, the commit and command that made it, its clock. */
export const legacyFixtureMeta = (description: string, generator: string) => ({
  description,
  commit: COMMIT,
  generator,
  command: `npx tsx --conditions=@eventkv/source ${generator}`,
  clock: { start: START, end: clock.now() },
});

/** Refuses a dump without message-id, log and query entries: not the layout before index keys. */
export const checkLegacyLayout = (keys: readonly string[]): void => {
  for (const part of ['/i/', '/g/', '/x/']) {
    if (!keys.some((key) => key.includes(part))) {
      throw new Error(
        `no '${part}' entry in the dump: this is not the legacy layout (run at commit ${COMMIT})`,
      );
    }
  }
};

// The repository root (`import.meta.url` typed by hand: not every test tsconfig declares it).
const REPO_ROOT = new URL('../../../../', (import.meta as { url: string }).url);

/** Writes `fixture` to `output`, encoded, and formats it with `npx biome format --write`. */
export const writeLegacyFixture = async (fixture: unknown, output: URL): Promise<void> => {
  const encoded = createSuperjsonCodec().encode(fixture);
  const text = `${JSON.stringify(encoded, null, 2)}\n`;
  // Node only (the generators run in Node); loaded by name, as the test tsconfigs that see
  // this file have no Node types.
  const fs = await import(['node', 'fs'].join(':'));
  const childProcess = await import(['node', 'child_process'].join(':'));
  const { fileURLToPath } = await import(['node', 'url'].join(':'));
  const path: string = fileURLToPath(output);
  fs.writeFileSync(path, text);
  childProcess.execFileSync('npx', ['biome', 'format', '--write', '--vcs-enabled=false', path], {
    cwd: fileURLToPath(REPO_ROOT),
    stdio: 'inherit',
  });
  const size = fs.statSync(path).size;
  console.log(`wrote ${path} (${Math.round(size / 1024)} kB)`);
};
