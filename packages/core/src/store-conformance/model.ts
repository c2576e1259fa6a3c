import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { StoreConformanceOptions, StoreHarness } from './harness.js';
import {
  AppendCommand,
  ClashCommand,
  commandArbs,
  emptyModel,
  type Model,
  type Real,
  RetryCommand,
  SaveSnapshotCommand,
  SnapshotReadCommand,
} from './model-commands.js';

/**
 * Runs at scale 1: 100 histories of up to 25 commands (some 1,300 operations, each checked
 * against the model as it runs). A remote store pays a round trip per operation; its
 * runner picks the scale that fits its time budget.
 */
const RUNS = 100;
const MAX_COMMANDS = 25;

/** Histories run before the random ones, every time. */
const scenarios: fc.AsyncCommand<Model, Real>[][] = [
  // A retry after the stream moved on, then a clash with one of its ids.
  [
    new AppendCommand(0, [1, 2], 'no-stream', true),
    new AppendCommand(0, [3], 0, false),
    new RetryCommand(0, 0),
    new ClashCommand(0, 1),
    new SaveSnapshotCommand(0, 1, 7),
    new SnapshotReadCommand(0),
  ],
];

/**
 * Model-based: random sequences of appends (every kind of expected version, with and
 * without message ids), retries, clashing ids, reads, version lookups and snapshot
 * operations on two streams, each outcome compared with a simple model; with the global
 * log, every position and `readLog` page too.
 */
export const modelTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('model-based', () => {
    it('random operations agree with the model', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: 'max' }),
          async (commands) => {
            const store = await h.store();
            await fc.asyncModelRun(
              () => ({
                // From a feed, positions are not in appends and streams: the model
                // checks streams only (the global-log and query tests cover the feed).
                model: emptyModel(
                  h.capabilities.readLog && h.capabilities.databaseReads !== 'feed',
                ),
                real: { store },
              }),
              commands,
            );
          },
        ),
        {
          numRuns: Math.max(1, Math.round(RUNS * h.propertyRunScale)),
          examples: scenarios.map((s): [typeof s] => [s]),
        },
      );
    }, 600_000);
  });
};
