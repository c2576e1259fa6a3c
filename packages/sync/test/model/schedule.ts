import fc from 'fast-check';

/**
 * A run's schedule: who the replicas are, how many streams they share, and the steps they
 * take before the network heals. Steps name replicas and streams by number (taken modulo
 * the counts), so a shrunk schedule stays valid.
 */

/** One-shot faults: each applies to the next matching call of the replica's remote. */
export type CallFault =
  /** The request is lost before it reaches the edge. */
  | 'lost-request'
  /** The edge applies the request; its answer is lost. */
  | 'lost-response'
  /** The request is delivered twice; either answer comes back. */
  | 'duplicated'
  /** An earlier push request of this replica is delivered (again) first. */
  | 'reordered';

/** How an app settles a conflicted stream. */
export type Settlement =
  /** Drop the pending events. */
  | 'discard'
  /** A decider re-decides each pending event on the edge's events, under new ids. */
  | 'rebase'
  /** The same, keeping the pending events' message ids. */
  | 'rebase-same-ids'
  /** The app's own merge: one new event. */
  | 'events';

export type Step =
  | {
      readonly kind: 'append';
      readonly replica: number;
      readonly stream: number;
      readonly count: number;
      /** `seen`: the version the replica reads first; `any`; or no expected version. */
      readonly expected: 'seen' | 'any' | 'none';
      /** Message ids given by the app (otherwise the store makes them). */
      readonly ownIds: boolean;
      /** With the user id and a correlation id in the metadata. */
      readonly metadata: boolean;
      /** Without data (only a type). */
      readonly bare: boolean;
      /** Made while a sync of the same replica runs. */
      readonly duringSync: boolean;
    }
  | { readonly kind: 'sync'; readonly replica: number }
  | {
      readonly kind: 'crash';
      readonly replica: number;
      /** `idle`: between operations; `sync`: during a sync, before its (commits+1)th local commit. */
      readonly during: 'idle' | 'sync';
      readonly commits: number;
    }
  | {
      readonly kind: 'resolve';
      readonly replica: number;
      readonly which: number;
      readonly how: Settlement;
      /** Decider: drop every other pending event (a re-decision that decides less). */
      readonly fewer: boolean;
      /** Made while a sync of the same replica runs. */
      readonly duringSync: boolean;
    }
  | {
      readonly kind: 'fault';
      readonly replica: number;
      readonly fault: CallFault;
      readonly on: 'push' | 'pull' | 'any';
      /** Picks which answer (duplicated) or which earlier request (reordered). */
      readonly pick: number;
    }
  /** Every call of the replica's remote fails for this many steps. */
  | { readonly kind: 'partition'; readonly replica: number; readonly steps: number }
  /** Half the calls of the replica's remote meet a one-shot fault, for this many steps. */
  | {
      readonly kind: 'flaky';
      readonly replica: number;
      readonly steps: number;
      readonly seed: number;
    }
  /** The replica's token is expired (401 UNAUTHORIZED) for this many steps. */
  | { readonly kind: 'expire'; readonly replica: number; readonly steps: number };

export interface Scenario {
  /**
   * One replica per entry, each its own storage and client id; users may repeat. `held`:
   * it pulls only the streams it holds (scope 'held'), else the whole database.
   */
  readonly replicas: readonly { readonly user: string; readonly held: boolean }[];
  readonly streams: number;
  readonly steps: readonly Step[];
  /** How conflicts are settled while the network heals, used in turn. */
  readonly settle: readonly ('discard' | 'rebase' | 'rebase-same-ids' | 'events')[];
}

const replica = fc.nat(3);

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      replica,
      stream: fc.nat(3),
      count: fc.integer({ min: 1, max: 3 }),
      expected: fc.constantFrom('seen' as const, 'seen' as const, 'any' as const, 'none' as const),
      ownIds: fc.boolean(),
      metadata: fc.boolean(),
      bare: fc.boolean(),
      duringSync: fc.nat(4).map((n) => n === 0),
    }),
  },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('sync' as const), replica }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      replica,
      during: fc.constantFrom('idle' as const, 'sync' as const),
      commits: fc.nat(8),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('resolve' as const),
      replica,
      which: fc.nat(3),
      how: fc.constantFrom(
        'discard' as const,
        'rebase' as const,
        'rebase-same-ids' as const,
        'events' as const,
      ),
      fewer: fc.boolean(),
      duringSync: fc.nat(3).map((n) => n === 0),
    }),
  },
  {
    weight: 17,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      replica,
      fault: fc.constantFrom(
        'lost-request' as const,
        'lost-response' as const,
        'duplicated' as const,
        'reordered' as const,
      ),
      on: fc.constantFrom('push' as const, 'push' as const, 'pull' as const, 'any' as const),
      pick: fc.nat(7),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('partition' as const),
      replica,
      steps: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('flaky' as const),
      replica,
      steps: fc.integer({ min: 4, max: 20 }),
      seed: fc.nat(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('expire' as const),
      replica,
      steps: fc.integer({ min: 1, max: 6 }),
    }),
  },
);

export const scenarioArb = (maxSteps: number): fc.Arbitrary<Scenario> =>
  fc.record({
    replicas: fc.array(
      fc.record({
        user: fc.constantFrom('ann', 'bob', 'cyd'),
        held: fc.nat(3).map((n) => n === 0),
      }),
      { minLength: 2, maxLength: 4 },
    ),
    streams: fc.integer({ min: 2, max: 4 }),
    steps: fc.array(step, { minLength: 1, maxLength: maxSteps, size: 'max' }),
    settle: fc.array(
      fc.constantFrom(
        'discard' as const,
        'rebase' as const,
        'rebase-same-ids' as const,
        'events' as const,
      ),
      { minLength: 1, maxLength: 6 },
    ),
  });
