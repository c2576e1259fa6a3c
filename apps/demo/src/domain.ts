/**
 * The bank account of the seed specification, as pure functions: `evolve` folds events
 * into a state (replay), `decide` turns a command into the events it causes or refuses it.
 * Amounts are integer cents, so balances never drift.
 */

export type BankEvent =
  | { type: 'AccountOpened'; data: { owner: string; currency: string } }
  | { type: 'FundsDeposited'; data: { amount: number } }
  | { type: 'FundsWithdrawn'; data: { amount: number } }
  | { type: 'AccountClosed'; data: { balance: number } };

export type BankEventType = BankEvent['type'];

export const EVENT_TYPES: readonly BankEventType[] = [
  'AccountOpened',
  'FundsDeposited',
  'FundsWithdrawn',
  'AccountClosed',
];

/** The stream type of every account. */
export const ACCOUNT_TYPE = 'BankAccount';

export interface AccountState {
  readonly status: 'none' | 'open' | 'closed';
  readonly owner: string;
  readonly currency: string;
  /** Cents. */
  readonly balance: number;
}

export const initialState: AccountState = { status: 'none', owner: '', currency: '', balance: 0 };

export type Command =
  | { kind: 'open'; owner: string; currency: string }
  | { kind: 'deposit'; amount: number }
  | { kind: 'withdraw'; amount: number }
  | { kind: 'close' };

/** A command the account's rules refuse; nothing is written. */
export class LedgerRuleError extends Error {
  override readonly name = 'LedgerRuleError';
}

/** Applies one event to the state: the only place state changes. */
export const evolve = (state: AccountState, event: BankEvent): AccountState => {
  switch (event.type) {
    case 'AccountOpened':
      return {
        status: 'open',
        owner: event.data.owner,
        currency: event.data.currency,
        balance: 0,
      };
    case 'FundsDeposited':
      return { ...state, balance: state.balance + event.data.amount };
    case 'FundsWithdrawn':
      return { ...state, balance: state.balance - event.data.amount };
    case 'AccountClosed':
      return { ...state, status: 'closed', balance: 0 };
  }
};

/** Replays events over a starting state (a snapshot's, or the initial one). */
export const replay = (events: readonly BankEvent[], from: AccountState = initialState) =>
  events.reduce(evolve, from);

const CURRENCY = /^[A-Z]{3}$/;
const MAX_AMOUNT = 1_000_000_000_00; // one billion, in cents

const checkAmount = (amount: number): void => {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new LedgerRuleError('The amount must be more than zero.');
  }
  if (amount > MAX_AMOUNT) throw new LedgerRuleError('The amount is too large.');
};

/** The events a command causes on an account in `state`, or a `LedgerRuleError`. */
export const decide = (state: AccountState, command: Command): BankEvent[] => {
  if (command.kind === 'open') {
    if (state.status !== 'none') throw new LedgerRuleError('This account is already open.');
    const owner = command.owner.trim();
    if (owner.length === 0) throw new LedgerRuleError('The owner’s name is required.');
    if (owner.length > 100) throw new LedgerRuleError('The owner’s name is too long.');
    if (!CURRENCY.test(command.currency)) {
      throw new LedgerRuleError('The currency must be a three-letter code such as EUR.');
    }
    return [{ type: 'AccountOpened', data: { owner, currency: command.currency } }];
  }
  if (state.status === 'none') throw new LedgerRuleError('This account does not exist.');
  if (state.status === 'closed') throw new LedgerRuleError('This account is closed.');
  switch (command.kind) {
    case 'deposit':
      checkAmount(command.amount);
      if (state.balance + command.amount > MAX_AMOUNT) {
        throw new LedgerRuleError('The balance would be too large.');
      }
      return [{ type: 'FundsDeposited', data: { amount: command.amount } }];
    case 'withdraw':
      checkAmount(command.amount);
      if (command.amount > state.balance) {
        throw new LedgerRuleError(
          `Insufficient funds: the balance is ${formatMoney(state.balance, state.currency)}.`,
        );
      }
      return [{ type: 'FundsWithdrawn', data: { amount: command.amount } }];
    case 'close':
      if (state.balance !== 0) {
        throw new LedgerRuleError(
          `Withdraw the balance (${formatMoney(state.balance, state.currency)}) before closing.`,
        );
      }
      return [{ type: 'AccountClosed', data: { balance: 0 } }];
  }
};

/**
 * Parses an amount typed by a person ("12", "12.5", "12.50") into cents; `undefined` when
 * it is not a positive amount with at most two decimals.
 */
export const parseAmount = (text: string): number | undefined => {
  const match = /^\s*(\d{1,12})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!match) return undefined;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return cents > 0 ? cents : undefined;
};

/** "€1,234.50" style, in the page's locale. */
export const formatMoney = (cents: number, currency: string): string => {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`.trim();
  }
};

/** A one-line description of an event for timelines and audit tables. */
export const describeEvent = (event: BankEvent, currency: string): string => {
  switch (event.type) {
    case 'AccountOpened':
      return `opened for ${event.data.owner} in ${event.data.currency}`;
    case 'FundsDeposited':
      return `+${formatMoney(event.data.amount, currency)}`;
    case 'FundsWithdrawn':
      return `−${formatMoney(event.data.amount, currency)}`;
    case 'AccountClosed':
      return 'closed';
  }
};
