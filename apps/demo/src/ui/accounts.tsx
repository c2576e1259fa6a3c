import { useEffect, useRef, useState } from 'preact/hooks';
import type { Backend } from '../backends';
import { type AccountState, formatMoney } from '../domain';
import type { Explanation } from '../explain';
import type { AccountSummary, Actor } from '../ledger';
import { formatRoute } from '../route';
import { explainOn, Problem, Section, useTask } from './common';
import { formatTime, plural } from './format';

const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY'];

/** An account in the list: what it was opened with, where it stands now, what waits. */
type Listed = AccountSummary & {
  readonly state: AccountState;
  /** Changes made here that the Worker has not confirmed yet. */
  readonly unsynced: number;
  readonly conflict: boolean;
};

/** Accounts: open one, pick one. The list follows other tabs' and devices' changes. */
export const AccountsView = ({
  backend,
  actor,
  onOpen,
}: {
  backend: Backend;
  actor: Actor;
  onOpen: (id: string) => void;
}) => {
  const [accounts, setAccounts] = useState<Listed[] | undefined>();
  const [listProblem, setListProblem] = useState<Explanation>();
  const [formProblem, setFormProblem] = useState<Explanation>();
  const [owner, setOwner] = useState('');
  const [currency, setCurrency] = useState('EUR');
  const list = useTask();
  const form = useTask();
  const latest = useRef(0);

  useEffect(() => {
    const refresh = () => {
      const call = ++latest.current;
      void list.run(
        async () => {
          const [found, pending] = await Promise.all([
            backend.ledger.listAccounts(),
            backend.store.sync.pendingStreams(),
          ]);
          const waiting = new Map(pending.map((p) => [p.ref.id, p]));
          // The demo's list is short: every account is loaded, in parallel, for its balance.
          const loaded = await Promise.all(found.map((account) => backend.ledger.load(account.id)));
          // Refreshes can overlap (changes arrive in bursts): only the latest one is shown.
          if (list.alive.current && call === latest.current) {
            setAccounts(
              found.map((account, i) => ({
                ...account,
                state: loaded[i]!.state,
                unsynced: waiting.get(account.id)?.pending ?? 0,
                conflict: waiting.get(account.id)?.conflict !== undefined,
              })),
            );
            setListProblem(undefined);
          }
        },
        (error) => setListProblem(explainOn(backend, error)),
      );
    };
    refresh();
    return backend.watchChanges(refresh);
  }, [backend]);

  const open = (event: Event) => {
    event.preventDefault();
    const id = crypto.randomUUID().slice(0, 8);
    void form.run(
      async () => {
        await backend.ledger.execute(
          { id, state: { status: 'none', owner: '', currency: '', balance: 0 }, version: 0 },
          { kind: 'open', owner, currency },
          actor,
        );
        setOwner('');
        onOpen(id);
      },
      (error) => setFormProblem(explainOn(backend, error)),
    );
  };

  return (
    <>
      <Section title="Open an account">
        <form class="row" onSubmit={open}>
          <label>
            Owner
            <input
              name="owner"
              required
              maxLength={100}
              value={owner}
              onInput={(e) => setOwner(e.currentTarget.value)}
            />
          </label>
          <label>
            Currency
            <select
              name="currency"
              value={currency}
              onChange={(e) => setCurrency(e.currentTarget.value)}
            >
              {CURRENCIES.map((code) => (
                <option key={code}>{code}</option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={form.busy}>
            Open account
          </button>
        </form>
        <Problem problem={formProblem} />
      </Section>
      <Section title="Accounts">
        <Problem problem={listProblem} />
        {accounts === undefined ? (
          !listProblem && <p aria-busy="true">Loading…</p>
        ) : accounts.length === 0 ? (
          <p>No accounts yet: open one above.</p>
        ) : (
          <ul class="accounts">
            {accounts.map((account) => (
              <li key={account.id}>
                <a href={formatRoute({ view: 'account', id: account.id })}>{account.owner}</a>{' '}
                <span class="money">{formatMoney(account.state.balance, account.currency)}</span>{' '}
                {account.state.status === 'closed' && <span class="badge">closed</span>}{' '}
                {account.conflict ? (
                  <span class="badge conflict">conflict</span>
                ) : (
                  account.unsynced > 0 && (
                    <span class="badge pending">
                      {plural(account.unsynced, 'change')} not synced
                    </span>
                  )
                )}{' '}
                <span class="muted">
                  #{account.id} · opened {formatTime(account.openedAt)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </>
  );
};
