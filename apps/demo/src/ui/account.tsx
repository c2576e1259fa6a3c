import { useEffect, useRef, useState } from 'preact/hooks';
import type { Backend } from '../backends';
import { type Command, describeEvent, formatMoney, parseAmount } from '../domain';
import type { Explanation } from '../explain';
import {
  type AccountConflict,
  type Actor,
  advance,
  type LedgerEvent,
  type LoadedAccount,
} from '../ledger';
import { Columns, explainOn, Problem, ProvenanceCells, Scroll, Section, useTask } from './common';
import { formatTime, listOf, plural } from './format';

/** Who writes when the demo simulates a concurrent edit. */
export const OTHER_DEVICE = 'another-device';
/** What it deposits: one unit (100 cents). */
const OTHER_DEPOSIT = 100;
const TIMELINE_LIMIT = 50;

/** Newest first, without duplicates: live events merged into the timeline. */
export const mergeTimeline = (
  timeline: readonly LedgerEvent[],
  fresh: readonly LedgerEvent[],
): LedgerEvent[] => {
  const newest = timeline[0]?.version ?? 0;
  const added = fresh.filter((event) => event.version > newest).reverse();
  return [...added, ...timeline].slice(0, TIMELINE_LIMIT);
};

/** "Last load: the snapshot at version 10, then 2 events replayed." */
export const describeLoad = (account: LoadedAccount): string => {
  const events = plural(account.replayed, 'event');
  return account.snapshotVersion === undefined
    ? `Last load: no snapshot, ${events} replayed from the start.`
    : `Last load: the snapshot at version ${account.snapshotVersion}, then ${events} replayed.`;
};

/** "Snapshots: versions 3 and 4" (a label, like "Balance"). */
export const describeSnapshots = (versions: readonly number[]): string =>
  `Snapshots: ${
    versions.length === 0
      ? 'none yet'
      : `${versions.length === 1 ? 'version' : 'versions'} ${listOf(versions)}`
  }`;

/**
 * The timeline's caption: "3 events of #a1b2, newest first" when it shows them all, else
 * "The newest 50 events of #a1b2, newest first".
 */
export const describeTimeline = (timeline: readonly LedgerEvent[], id: string): string => {
  const count = timeline.length;
  // Versions start at 1, so the newest event's version is how many there are in all.
  const all = count === (timeline[0]?.version ?? 0);
  return (
    `${all ? plural(count, 'event') : `The newest ${count} events`} of #${id}` +
    (count > 1 ? ', newest first' : '')
  );
};

/** An event made here that the Worker has not confirmed yet. */
const isPending = (event: LedgerEvent): boolean =>
  (event as { confirmed?: boolean }).confirmed === false;

/** "Withdraw €20.00", "Close the account": a command as the person gave it. */
const describeCommand = (command: Command | undefined, currency: string): string => {
  switch (command?.kind) {
    case 'deposit':
      return `Deposit ${formatMoney(command.amount, currency)}`;
    case 'withdraw':
      return `Withdraw ${formatMoney(command.amount, currency)}`;
    case 'close':
      return 'Close the account';
    case 'open':
      return `Open the account for ${command.owner}`;
    default:
      return 'A change without a command';
  }
};

/**
 * This device's changes met another device's: what happened on each side, and the two
 * ways on (decide them again on the new balance, or drop them).
 */
export const SyncConflict = ({
  conflict,
  busy,
  problem,
  onRetry,
  onDrop,
}: {
  conflict: AccountConflict;
  busy: boolean;
  problem: Explanation | undefined;
  onRetry: () => void;
  onDrop: () => void;
}) => {
  const { current } = conflict;
  return (
    <div class="problem conflict" role="alert">
      <h3>
        {conflict.kind === 'rejected'
          ? 'The Worker refused your changes'
          : 'Changed on another device'}
      </h3>
      {conflict.kind === 'rejected' ? (
        <p>{conflict.reason ?? 'The Worker refused them for good.'}</p>
      ) : (
        <p>
          While you were offline, the account changed elsewhere:{' '}
          {conflict.theirs
            .map(
              (e) => `${describeEvent(e, current.currency)} by ${e.metadata.userId ?? 'someone'}`,
            )
            .join('; ') || 'its history was replaced'}
          . Its balance is now{' '}
          <strong data-testid="conflict-balance">
            {formatMoney(current.balance, current.currency)}
          </strong>
          .
        </p>
      )}
      <p>
        Waiting on this device:{' '}
        {conflict.mine.map((m) => describeCommand(m.command, current.currency)).join('; ')}.
      </p>
      <p class="row">
        <button type="button" disabled={busy} onClick={onRetry}>
          Retry on the new balance
        </button>
        <button type="button" class="danger" disabled={busy} onClick={onDrop}>
          Drop my changes
        </button>
      </p>
      <Problem problem={problem} />
    </div>
  );
};

/** One account: balance and version, commands, snapshots, the event timeline. */
export const AccountView = ({
  backend,
  id,
  actor,
  onBack,
}: {
  backend: Backend;
  id: string;
  actor: Actor;
  onBack: () => void;
}) => {
  const { ledger } = backend;
  const [account, setAccount] = useState<LoadedAccount>();
  const [timeline, setTimeline] = useState<LedgerEvent[]>([]);
  const [snapshots, setSnapshots] = useState<number[]>([]);
  const [problem, setProblem] = useState<Explanation>();
  /** A command refused for a version conflict; `at` is the version reloaded since. */
  const [conflict, setConflict] = useState<{ message: string; at?: number }>();
  const [notice, setNotice] = useState('');
  const [armed, setArmed] = useState(false);
  const [amount, setAmount] = useState('');
  const [loads, setLoads] = useState(0);
  /** This device's changes that met another device's (found by a sync). */
  const [synced, setSynced] = useState<AccountConflict>();
  const [settleProblem, setSettleProblem] = useState<Explanation>();
  const task = useTask();
  const current = useRef<LoadedAccount>();
  current.current = account;

  const fail = (error: unknown) => {
    const explained = explainOn(backend, error);
    if (explained.kind !== 'conflict') {
      setProblem(explained);
      return;
    }
    // Nothing was saved: reload at once, so the next decision is made on the current state.
    setConflict(explained);
    void reload();
  };

  /** Applies events that follow the loaded version (live, or read after a command). */
  const applyNew = (events: readonly LedgerEvent[]) => {
    if (events.length === 0) return;
    setAccount((loaded) => (loaded ? advance(loaded, events) : loaded));
    setTimeline((shown) => mergeTimeline(shown, events));
  };

  const reload = () =>
    task.run(async () => {
      // The timeline is read up to the loaded version, after the load: the live tail then
      // continues both from the same version, so no event falls between them.
      const loaded = await ledger.load(id);
      const [latest, versions, found] = await Promise.all([
        ledger.timeline(id, TIMELINE_LIMIT, loaded.version),
        ledger.snapshotVersions(id),
        ledger.conflict(id),
      ]);
      if (!task.alive.current) return;
      setSynced(found);
      setAccount(loaded);
      setTimeline(latest);
      setSnapshots(versions);
      setConflict((shown) => shown && { ...shown, at: loaded.version });
      setProblem(undefined);
      setLoads((n) => n + 1);
    }, fail);

  useEffect(() => {
    void reload();
  }, []);

  // A sync may find a conflict on this account, or settle one (in any tab): the account is
  // read again when that changes, since its pending events may have moved or gone.
  const hasConflict = synced !== undefined;
  // And a sync that confirms this device's changes turns their "not synced" marks off.
  useEffect(
    () =>
      backend.watchChanges(() => {
        void ledger.conflict(id).then(async (found) => {
          if (!task.alive.current) return;
          if ((found !== undefined) !== hasConflict) return void reload();
          const shown = current.current?.version;
          if (shown === undefined || shown === 0) return;
          const latest = await ledger.timeline(id, TIMELINE_LIMIT, shown);
          if (task.alive.current && current.current?.version === shown) setTimeline(latest);
        });
      }),
    [hasConflict],
  );

  const settle = (how: 'retry' | 'drop') => {
    setSettleProblem(undefined);
    void task.run(
      async () => {
        if (how === 'retry') await ledger.retryConflict(id, actor);
        else await ledger.dropConflict(id);
        setNotice(
          how === 'retry'
            ? 'Your changes were decided again on the new balance: they sync next.'
            : 'Your changes were dropped: the account is as the other device left it.',
        );
        await reload();
      },
      (error) => setSettleProblem(explainOn(backend, error)),
    );
  };

  // Live tail from the loaded version: other tabs' (or devices') appends appear here.
  const loadedVersion = account?.version;
  useEffect(() => {
    if (loadedVersion === undefined) return;
    return ledger.follow(id, loadedVersion, applyNew, fail);
  }, [loads, loadedVersion === undefined]);

  const run = (command: Command, done: string) => {
    const loaded = current.current;
    if (!loaded) return;
    setProblem(undefined);
    setConflict(undefined);
    setNotice('');
    const simulate = armed;
    setArmed(false);
    void task.run(async () => {
      const result = await ledger.execute(loaded, command, actor, {
        ...(simulate
          ? {
              beforeAppend: async (stream) => {
                await stream.append(
                  {
                    type: 'FundsDeposited',
                    data: { amount: OTHER_DEPOSIT },
                    metadata: { userId: OTHER_DEVICE, correlationId: crypto.randomUUID() },
                  },
                  { expectedVersion: loaded.version },
                );
              },
            }
          : {}),
      });
      // Shown at once, before the live tail's delivery of the same events (it follows the
      // replica's change feed; applyNew ignores what it has). Nothing here polls.
      applyNew(await ledger.stream(id).read({ from: loaded.version + 1 }));
      setAmount('');
      setNotice(`${done}, now at version ${result.version}.`);
    }, fail);
  };

  const withAmount = (kind: 'deposit' | 'withdraw') => {
    const cents = parseAmount(amount);
    if (cents === undefined) {
      setProblem({ kind: 'rule', message: 'Enter an amount such as 25 or 12.50.' });
      return;
    }
    const money = formatMoney(cents, account?.state.currency ?? '');
    run({ kind, amount: cents }, kind === 'deposit' ? `Deposited ${money}` : `Withdrew ${money}`);
  };

  const takeSnapshot = () => {
    const loaded = current.current;
    if (!loaded) return;
    void task.run(async () => {
      const version = await ledger.snapshot(loaded);
      setSnapshots(await ledger.snapshotVersions(id));
      setNotice(`Snapshot saved at version ${version}: the next load starts from it.`);
    }, fail);
  };

  if (!account) {
    return (
      <Section title="Account">
        <Problem problem={problem} />
        {!problem && <p aria-busy="true">Loading…</p>}
      </Section>
    );
  }
  const { state } = account;
  if (state.status === 'none') {
    return (
      <Section title="Account">
        <p>There is no account #{id} here.</p>
        <button type="button" onClick={onBack}>
          Back to the accounts
        </button>
      </Section>
    );
  }
  // After a conflict, commands wait for the reload: they are decided on the current state.
  const unsynced = timeline.filter(isPending).length;
  const blocked =
    task.busy ||
    (conflict !== undefined && conflict.at === undefined) ||
    synced !== undefined ||
    state.status === 'closed';

  return (
    <>
      <Section title={`${state.owner}’s account`} class="account">
        <dl class="figures">
          <div>
            <dt>Balance</dt>
            <dd data-testid="balance">{formatMoney(state.balance, state.currency)}</dd>
          </div>
          <div>
            <dt>Version</dt>
            <dd data-testid="version">{account.version}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd data-testid="status">{state.status}</dd>
          </div>
          <div>
            <dt>Account</dt>
            <dd>#{id}</dd>
          </div>
        </dl>
        {unsynced > 0 && (
          <p class="muted" data-testid="unsynced">
            Includes {plural(unsynced, 'change')} made on this device and not synced yet.
          </p>
        )}
        {conflict && (
          <div class="problem conflict" role="alert">
            <h3>Version conflict</h3>
            <p>{conflict.message}</p>
            {conflict.at !== undefined ? (
              <p>
                The account is reloaded at version {conflict.at}: check the balance and decide
                again.
              </p>
            ) : (
              !task.busy && (
                <button type="button" onClick={() => void reload()}>
                  Reload and decide again
                </button>
              )
            )}
          </div>
        )}
        {synced && (
          <SyncConflict
            conflict={synced}
            busy={task.busy}
            problem={settleProblem}
            onRetry={() => settle('retry')}
            onDrop={() => settle('drop')}
          />
        )}
        <Problem problem={problem} />
        <p role="status" class="notice">
          {notice}
        </p>
        {state.status === 'open' && (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              withAmount('deposit');
            }}
          >
            <label>
              Amount ({state.currency})
              <input
                name="amount"
                inputMode="decimal"
                autoComplete="off"
                value={amount}
                onInput={(e) => setAmount(e.currentTarget.value)}
              />
            </label>
            <button type="submit" disabled={blocked}>
              Deposit
            </button>
            <button type="button" disabled={blocked} onClick={() => withAmount('withdraw')}>
              Withdraw
            </button>
            <button
              type="button"
              disabled={blocked}
              class="danger"
              onClick={() => run({ kind: 'close' }, 'Account closed')}
            >
              Close account
            </button>
          </form>
        )}
        {state.status === 'open' && (
          <p class="row">
            <button
              type="button"
              aria-pressed={armed}
              class="secondary"
              disabled={blocked}
              onClick={() => setArmed(!armed)}
            >
              Simulate a concurrent edit
            </button>
            <span class="muted">
              {armed
                ? `Armed: your next command races “${OTHER_DEVICE}”, which appends first.`
                : 'Makes another writer append between your decision and your write.'}
            </span>
          </p>
        )}
      </Section>
      <Section title="Snapshots">
        <p data-testid="load-info">{describeLoad(account)}</p>
        <p class="row">
          <button type="button" class="secondary" disabled={task.busy} onClick={takeSnapshot}>
            Take snapshot
          </button>
          <button
            type="button"
            class="secondary"
            disabled={task.busy}
            onClick={() => void reload()}
          >
            Reload
          </button>
        </p>
        <p data-testid="snapshots">{describeSnapshots(snapshots)}</p>
      </Section>
      <Section title="Timeline">
        <Scroll label="Timeline table">
          <table>
            <caption>{describeTimeline(timeline, id)}</caption>
            <Columns names={['Version', 'Event', 'Details', 'Time', 'User', 'Correlation']} />
            <tbody>
              {timeline.map((event) => (
                <tr key={event.version} class={isPending(event) ? 'pending' : undefined}>
                  <td>
                    {event.version}
                    {isPending(event) && <span class="badge pending">not synced</span>}
                  </td>
                  <td>{event.type}</td>
                  <td>{describeEvent(event, state.currency)}</td>
                  <td>{formatTime(event.metadata.timestamp)}</td>
                  <ProvenanceCells event={event} />
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      </Section>
    </>
  );
};
