import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccountState,
  type BankEvent,
  type Command,
  decide,
  describeEvent,
  EVENT_TYPES,
  evolve,
  formatMoney,
  initialState,
  LedgerRuleError,
  parseAmount,
  replay,
} from '../src/domain';

const MAX = 1_000_000_000_00;
const open = (balance = 0, currency = 'EUR'): AccountState => ({
  status: 'open',
  owner: 'Ada',
  currency,
  balance,
});
const closed: AccountState = { status: 'closed', owner: 'Ada', currency: 'EUR', balance: 0 };
const money = (cents: number, currency = 'EUR') =>
  new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);

/** Runs `decide` and returns the rule's message (fails the test when it does not refuse). */
const refusal = (state: AccountState, command: Command): string => {
  try {
    decide(state, command);
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerRuleError);
    expect((error as Error).name).toBe('LedgerRuleError');
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(command)} to be refused`);
};

describe('evolve and replay', () => {
  it('folds each kind of event', () => {
    const opened = evolve(initialState, {
      type: 'AccountOpened',
      data: { owner: 'Ada', currency: 'EUR' },
    });
    expect(opened).toEqual(open(0));
    expect(evolve(opened, { type: 'FundsDeposited', data: { amount: 500 } }).balance).toBe(500);
    expect(evolve(open(500), { type: 'FundsWithdrawn', data: { amount: 200 } }).balance).toBe(300);
    expect(evolve(open(0), { type: 'AccountClosed', data: { balance: 0 } })).toEqual(closed);
  });

  it('does not change the state it is given', () => {
    const state = open(100);
    evolve(state, { type: 'FundsDeposited', data: { amount: 50 } });
    expect(state.balance).toBe(100);
  });

  it('replays a history from the initial state or from a snapshot state', () => {
    const history: BankEvent[] = [
      { type: 'AccountOpened', data: { owner: 'Ada', currency: 'CHF' } },
      { type: 'FundsDeposited', data: { amount: 1000 } },
      { type: 'FundsWithdrawn', data: { amount: 250 } },
      { type: 'FundsDeposited', data: { amount: 5 } },
    ];
    expect(replay(history)).toEqual(open(755, 'CHF'));
    expect(replay([])).toEqual(initialState);
    const snapshot = replay(history.slice(0, 2));
    expect(replay(history.slice(2), snapshot)).toEqual(replay(history));
  });

  it('lists every event type', () => {
    expect(EVENT_TYPES).toEqual([
      'AccountOpened',
      'FundsDeposited',
      'FundsWithdrawn',
      'AccountClosed',
    ]);
  });
});

describe('decide', () => {
  it('opens an account with a trimmed owner', () => {
    expect(
      decide(initialState, { kind: 'open', owner: '  Ada Lovelace ', currency: 'GBP' }),
    ).toEqual([{ type: 'AccountOpened', data: { owner: 'Ada Lovelace', currency: 'GBP' } }]);
  });

  it('deposits, withdraws up to the balance, and closes an empty account', () => {
    expect(decide(open(0), { kind: 'deposit', amount: 1 })).toEqual([
      { type: 'FundsDeposited', data: { amount: 1 } },
    ]);
    expect(decide(open(0), { kind: 'deposit', amount: MAX })).toEqual([
      { type: 'FundsDeposited', data: { amount: MAX } },
    ]);
    expect(decide(open(300), { kind: 'withdraw', amount: 300 })).toEqual([
      { type: 'FundsWithdrawn', data: { amount: 300 } },
    ]);
    expect(decide(open(0), { kind: 'close' })).toEqual([
      { type: 'AccountClosed', data: { balance: 0 } },
    ]);
  });

  it('refuses to open an account twice, or a closed one again', () => {
    const command: Command = { kind: 'open', owner: 'Ada', currency: 'EUR' };
    expect(refusal(open(), command)).toBe('This account is already open.');
    expect(refusal(closed, command)).toBe('This account is already open.');
  });

  it('refuses an empty or too long owner', () => {
    expect(refusal(initialState, { kind: 'open', owner: '', currency: 'EUR' })).toBe(
      'The owner’s name is required.',
    );
    expect(refusal(initialState, { kind: 'open', owner: ' \t ', currency: 'EUR' })).toBe(
      'The owner’s name is required.',
    );
    expect(refusal(initialState, { kind: 'open', owner: 'x'.repeat(101), currency: 'EUR' })).toBe(
      'The owner’s name is too long.',
    );
    expect(
      decide(initialState, { kind: 'open', owner: 'x'.repeat(100), currency: 'EUR' }),
    ).toHaveLength(1);
  });

  it('refuses a currency that is not a three-letter code', () => {
    for (const currency of ['eur', 'EU', 'EURO', '', 'E1R', ' EUR']) {
      expect(refusal(initialState, { kind: 'open', owner: 'Ada', currency })).toBe(
        'The currency must be a three-letter code such as EUR.',
      );
    }
  });

  it('refuses every command but open on an account that is not open', () => {
    const commands: Command[] = [
      { kind: 'deposit', amount: 100 },
      { kind: 'withdraw', amount: 100 },
      { kind: 'close' },
    ];
    for (const command of commands) {
      expect(refusal(initialState, command)).toBe('This account does not exist.');
      expect(refusal(closed, command)).toBe('This account is closed.');
    }
  });

  it('refuses amounts that are not positive', () => {
    for (const amount of [0, -1, -100]) {
      expect(refusal(open(10_000), { kind: 'deposit', amount })).toBe(
        'The amount must be more than zero.',
      );
      expect(refusal(open(10_000), { kind: 'withdraw', amount })).toBe(
        'The amount must be more than zero.',
      );
    }
  });

  it('refuses amounts that are not whole cents', () => {
    for (const amount of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      refusal(open(10_000), { kind: 'deposit', amount });
      refusal(open(10_000), { kind: 'withdraw', amount });
    }
  });

  it('refuses too large amounts and balances', () => {
    expect(refusal(open(0), { kind: 'deposit', amount: MAX + 1 })).toBe('The amount is too large.');
    expect(refusal(open(MAX), { kind: 'withdraw', amount: MAX + 1 })).toBe(
      'The amount is too large.',
    );
    expect(refusal(open(MAX), { kind: 'deposit', amount: 1 })).toBe(
      'The balance would be too large.',
    );
  });

  it('refuses to withdraw more than the balance, naming the balance', () => {
    expect(refusal(open(1000), { kind: 'withdraw', amount: 1001 })).toBe(
      `Insufficient funds: the balance is ${money(1000)}.`,
    );
    expect(refusal(open(0, 'USD'), { kind: 'withdraw', amount: 1 })).toBe(
      `Insufficient funds: the balance is ${money(0, 'USD')}.`,
    );
  });

  it('refuses to close an account that holds money', () => {
    expect(refusal(open(250), { kind: 'close' })).toBe(
      `Withdraw the balance (${money(250)}) before closing.`,
    );
  });

  it('never lets a random sequence of accepted commands overdraw the account', () => {
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({
        kind: fc.constant('deposit' as const),
        amount: fc.integer({ min: -5, max: 5000 }),
      }),
      fc.record({
        kind: fc.constant('withdraw' as const),
        amount: fc.integer({ min: -5, max: 5000 }),
      }),
      fc.constant({ kind: 'close' as const }),
      fc.record({
        kind: fc.constant('open' as const),
        owner: fc.string({ maxLength: 5 }),
        currency: fc.constantFrom('EUR', 'usd', 'JPY'),
      }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        let state = initialState;
        const history: BankEvent[] = [];
        for (const next of commands) {
          let events: BankEvent[];
          try {
            events = decide(state, next);
          } catch (error) {
            if (!(error instanceof LedgerRuleError)) throw error;
            continue; // refused: nothing happens
          }
          history.push(...events);
          state = replay(events, state);
          expect(state.balance).toBeGreaterThanOrEqual(0);
          expect(Number.isSafeInteger(state.balance)).toBe(true);
        }
        expect(replay(history)).toEqual(state);
        if (state.status === 'closed') expect(state.balance).toBe(0);
      }),
    );
  });
});

describe('parseAmount', () => {
  it('reads whole amounts and up to two decimals, with a point or a comma, in cents', () => {
    expect(parseAmount('12')).toBe(1200);
    expect(parseAmount('12.5')).toBe(1250);
    expect(parseAmount('12,5')).toBe(1250);
    expect(parseAmount('12.50')).toBe(1250);
    expect(parseAmount('12.05')).toBe(1205);
    expect(parseAmount('0.01')).toBe(1);
    expect(parseAmount('  7 ')).toBe(700);
    expect(parseAmount('000000000001')).toBe(100);
    expect(parseAmount('999999999999.99')).toBe(99_999_999_999_999);
  });

  it('refuses what is not a positive amount with at most two decimals', () => {
    for (const text of [
      '',
      ' ',
      '0',
      '0.00',
      '-1',
      '+1',
      '1.234',
      '12.',
      '.5',
      '1e3',
      '1 000',
      '1,000.00',
      'abc',
      '12€',
      '1234567890123',
    ]) {
      expect(parseAmount(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});

describe('formatMoney', () => {
  it('formats cents as the currency, in the page’s locale', () => {
    expect(formatMoney(123450, 'EUR')).toBe(money(123450, 'EUR'));
    expect(formatMoney(5, 'USD')).toBe(money(5, 'USD'));
    expect(formatMoney(0, 'GBP')).toBe(money(0, 'GBP'));
  });

  it('falls back to a plain amount for a currency Intl does not know', () => {
    expect(formatMoney(1250, 'XX')).toBe('12.50 XX');
    expect(formatMoney(1250, '')).toBe('12.50');
  });
});

describe('describeEvent', () => {
  it('describes each kind of event in one line', () => {
    expect(
      describeEvent({ type: 'AccountOpened', data: { owner: 'Ada', currency: 'EUR' } }, 'EUR'),
    ).toBe('opened for Ada in EUR');
    expect(describeEvent({ type: 'FundsDeposited', data: { amount: 2550 } }, 'EUR')).toBe(
      `+${money(2550)}`,
    );
    expect(describeEvent({ type: 'FundsWithdrawn', data: { amount: 100 } }, 'USD')).toBe(
      `−${money(100, 'USD')}`,
    );
    expect(describeEvent({ type: 'AccountClosed', data: { balance: 0 } }, 'EUR')).toBe('closed');
  });

  it('describes amounts without a currency (the audit view) as plain numbers', () => {
    expect(describeEvent({ type: 'FundsDeposited', data: { amount: 2550 } }, '')).toBe('+25.50');
  });
});
