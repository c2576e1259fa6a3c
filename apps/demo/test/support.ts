import { toWire } from '@eventkv/client';
import { type Clock, createEventStore, createMemoryKv, type Kv } from '@eventkv/core';
import type { Backend, EdgeSettings } from '../src/backends';
import { ACCOUNT_TYPE, type BankEvent } from '../src/domain';
import { createLedger, type Ledger } from '../src/ledger';

/** A ledger over the in-memory store; `kv` is exposed so that a second ledger can share it. */
export const memoryLedger = (
  kv: Kv = createMemoryKv(),
  clock?: Clock,
): { kv: Kv; ledger: Ledger } => ({
  kv,
  ledger: createLedger(createEventStore<BankEvent>({ kv, ...(clock ? { clock } : {}) })),
});

/** The local backend the app gets in tests: the in-memory store instead of IndexedDB. */
export const memoryBackend = (kv: Kv): Backend => ({
  mode: 'local',
  label: 'memory',
  ledger: createLedger(createEventStore<BankEvent>({ kv })),
  watchChanges: (listener) => kv.watch!(() => listener()),
  close() {},
});

/** Opens an account and deposits the amounts, as `userId`; returns its id and version. */
export const seedAccount = async (
  ledger: Ledger,
  {
    id = 'acc-1',
    owner = 'Ada Lovelace',
    currency = 'EUR',
    deposits = [] as number[],
    userId = 'alice',
  } = {},
): Promise<{ id: string; version: number }> => {
  let account = await ledger.load(id);
  await ledger.execute(account, { kind: 'open', owner, currency }, { userId });
  for (const amount of deposits) {
    account = await ledger.load(id);
    await ledger.execute(account, { kind: 'deposit', amount }, { userId });
  }
  return { id, version: (await ledger.load(id)).version };
};

export const accountRef = (id: string) => ({ type: ACCOUNT_TYPE, id });

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** An unsigned token whose `db` claim names the database: the client only reads the claim. */
export const token = (db = 'demo') =>
  `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ db })}.signature`;

export const edgeSettings: EdgeSettings = { endpoint: 'http://127.0.0.1:8787', token: token() };

/** A fetch that never reaches anything, as when the Worker is not running. */
export const unreachableFetch: typeof fetch = async () => {
  throw new TypeError('Failed to fetch');
};

/** A fetch that answers every request as the Worker does for a bad token. */
export const unauthorizedFetch: typeof fetch = async () =>
  new Response(
    JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'The bearer token is invalid.' } }),
    { status: 401, headers: { 'Content-Type': 'application/json' } },
  );

/** A successful wire JSON response, as the Worker sends them. */
export const okResponse = (value: unknown, status = 200) =>
  new Response(toWire(value), { status, headers: { 'Content-Type': 'application/json' } });
