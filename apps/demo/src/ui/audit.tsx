import { useState } from 'preact/hooks';
import type { Backend } from '../backends';
import { describeEvent, EVENT_TYPES } from '../domain';
import type { Explanation } from '../explain';
import type { AccountSummary, AuditQuery, LedgerEvent } from '../ledger';
import { formatRoute } from '../route';
import { Columns, explainOn, Problem, ProvenanceCells, Scroll, Section, useTask } from './common';
import { formatTime, parseLocalDateTime, plural, toLocalDateTime } from './format';

/** Audit: the database's events by user or by type within a time range, a page at a time. */
export const AuditView = ({ backend, user }: { backend: Backend; user: string }) => {
  const [by, setBy] = useState<AuditQuery['by']>('user');
  const [userValue, setUserValue] = useState(user);
  const [typeValue, setTypeValue] = useState<string>(EVENT_TYPES[1]!);
  const [since, setSince] = useState(() => toLocalDateTime(Date.now() - 24 * 3600_000));
  const [until, setUntil] = useState('');
  const [results, setResults] = useState<{
    events: LedgerEvent[];
    cursor?: string;
    query: AuditQuery;
  }>();
  const [problem, setProblem] = useState<Explanation>();
  const [accounts, setAccounts] = useState<ReadonlyMap<string, AccountSummary>>(new Map());
  const task = useTask();

  const search = (query: AuditQuery, append: boolean) =>
    void task.run(
      async () => {
        // The accounts, read with each page, name the events' accounts and their currency;
        // without them, ids and bare amounts are shown.
        const [page, listed] = await Promise.all([
          backend.ledger.audit(query),
          backend.ledger.listAccounts().catch(() => undefined),
        ]);
        if (listed) setAccounts(new Map(listed.map((account) => [account.id, account])));
        setProblem(undefined);
        setResults((shown) => ({
          events: append && shown ? [...shown.events, ...page.events] : page.events,
          ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
          query,
        }));
      },
      (error) => setProblem(explainOn(backend, error)),
    );

  const submit = (event: Event) => {
    event.preventDefault();
    const from = parseLocalDateTime(since);
    const to = parseLocalDateTime(until);
    if (from !== undefined && to !== undefined && to <= from) {
      setProblem({ kind: 'rule', message: '“Until” must be after “From”.' });
      return;
    }
    const value = by === 'user' ? userValue.trim() : typeValue;
    if (value === '') {
      setProblem({ kind: 'rule', message: 'Enter a user.' });
      return;
    }
    search(
      {
        by,
        value,
        ...(from === undefined ? {} : { since: from }),
        ...(to === undefined ? {} : { until: to }),
      },
      false,
    );
  };

  return (
    <Section title="Audit">
      <form class="row" onSubmit={submit}>
        <label>
          By
          <select
            name="by"
            value={by}
            onChange={(e) => setBy(e.currentTarget.value as AuditQuery['by'])}
          >
            <option value="user">User</option>
            <option value="eventType">Event type</option>
          </select>
        </label>
        {by === 'user' ? (
          <label>
            User
            <input
              name="user"
              value={userValue}
              maxLength={64}
              onInput={(e) => setUserValue(e.currentTarget.value)}
            />
          </label>
        ) : (
          <label>
            Event type
            <select
              name="eventType"
              value={typeValue}
              onChange={(e) => setTypeValue(e.currentTarget.value)}
            >
              {EVENT_TYPES.map((type) => (
                <option key={type}>{type}</option>
              ))}
            </select>
          </label>
        )}
        <label>
          From
          <input
            type="datetime-local"
            name="since"
            value={since}
            onInput={(e) => setSince(e.currentTarget.value)}
          />
        </label>
        <label>
          Until
          <input
            type="datetime-local"
            name="until"
            value={until}
            onInput={(e) => setUntil(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={task.busy}>
          Search
        </button>
      </form>
      <Problem problem={problem} />
      {results && (
        <Scroll label="Audit results">
          <table>
            <caption>
              {plural(results.events.length, 'event')} by{' '}
              {results.query.by === 'user' ? 'user' : 'type'} “{results.query.value}”, oldest first
            </caption>
            <Columns
              names={['Time', 'Account', 'Version', 'Event', 'Details', 'User', 'Correlation']}
            />
            <tbody>
              {results.events.map((event) => {
                const id = event.metadata.aggregateId;
                const account = accounts.get(id);
                return (
                  <tr key={`${id}:${event.version}`}>
                    <td>{formatTime(event.metadata.timestamp)}</td>
                    <td>
                      <a href={formatRoute({ view: 'account', id })}>
                        {account?.owner ?? `#${id}`}
                      </a>
                      {account && <span class="muted"> #{id}</span>}
                    </td>
                    <td>{event.version}</td>
                    <td>{event.type}</td>
                    <td>{describeEvent(event, account?.currency ?? '')}</td>
                    <ProvenanceCells event={event} />
                  </tr>
                );
              })}
            </tbody>
          </table>
          {results.cursor !== undefined && (
            <button
              type="button"
              disabled={task.busy}
              onClick={() =>
                results.cursor !== undefined &&
                search({ ...results.query, cursor: results.cursor }, true)
              }
            >
              Load more
            </button>
          )}
        </Scroll>
      )}
    </Section>
  );
};
