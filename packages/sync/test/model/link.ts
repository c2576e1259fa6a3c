import { seededRandom as seeded } from '@eventkv/core/testing';
import type {
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  SyncRemote,
} from '../../src/index.js';
import type { Ledger } from './ledger.js';
import type { CallFault } from './schedule.js';

/**
 * A replica's network: its remote to the edge, with faults. It outlives the replica's
 * restarts (the network is not the process). Partitions and expired tokens last a number
 * of steps; one-shot faults wait for the next call they apply to.
 */

interface Armed {
  readonly fault: CallFault;
  readonly on: 'push' | 'pull' | 'any';
  readonly pick: number;
}

/** What `fetch` throws when no answer arrives. */
const networkError = () => new TypeError('Failed to fetch');

/** What the HTTP remote throws for a 401 (matched by shape: name, code, status). */
const unauthorized = () =>
  Object.assign(new Error('UNAUTHORIZED: the token has expired'), {
    name: 'HttpError',
    code: 'UNAUTHORIZED',
    status: 401,
  });

/** A push for the trace of a run: epoch/seq, then each stream's expected version and ids. */
const describePush = (r: PushRequest): string =>
  `${r.epoch}/${r.seq} ${r.entries
    .map(
      (e) =>
        `${e.stream.id}@${e.expectedVersion}[${e.events.map((x) => x.metadata?.messageId).join(' ')}]`,
    )
    .join(' ')}`;

const describeAnswer = (response: PushResponse): string =>
  response.outcome === 'applied'
    ? `${response.replayed ? 'replayed' : 'applied'}: ${response.results
        .map((x) =>
          'events' in x
            ? `${x.status} ${x.events.map((e) => `${e.metadata.messageId}@${e.version}`).join(' ')}`
            : x.status,
        )
        .join('; ')}`
    : response.outcome;

/** Most earlier push requests kept for a late delivery. */
const KEPT = 8;

const FLAKY: readonly CallFault[] = ['lost-request', 'lost-response', 'duplicated', 'reordered'];

export class Link implements SyncRemote {
  readonly database: string;
  readonly #edge: SyncRemote;
  readonly #ledger: Ledger;
  /** The number of events the edge holds (the log's length), read outside any fault. */
  readonly #edgeSize: () => Promise<number>;
  readonly #name: string;
  #step = 0;
  #partitionedUntil = -1;
  #expiredUntil = -1;
  #armed: Armed[] = [];
  #flakyUntil = -1;
  #random: () => number = () => 1;
  /** Push requests the edge has received, newest last. */
  #delivered: PushRequest[] = [];

  constructor(name: string, edge: SyncRemote, ledger: Ledger, edgeSize: () => Promise<number>) {
    this.#name = name;
    this.database = edge.database;
    this.#edge = edge;
    this.#ledger = ledger;
    this.#edgeSize = edgeSize;
  }

  /** The schedule's clock: partitions and expiries end at a step. */
  at(step: number): void {
    this.#step = step;
  }

  partition(steps: number): void {
    this.#partitionedUntil = Math.max(this.#partitionedUntil, this.#step + steps);
  }

  expire(steps: number): void {
    this.#expiredUntil = Math.max(this.#expiredUntil, this.#step + steps);
  }

  arm(fault: CallFault, on: Armed['on'], pick: number): void {
    this.#armed.push({ fault, on, pick });
  }

  /** For this many steps, half the calls meet one of the one-shot faults, at random. */
  flaky(steps: number, seed: number): void {
    this.#flakyUntil = Math.max(this.#flakyUntil, this.#step + steps);
    this.#random = seeded(seed);
  }

  /** The network is healthy from now on: no partition, a fresh token, no faults waiting. */
  heal(): void {
    this.#partitionedUntil = -1;
    this.#expiredUntil = -1;
    this.#flakyUntil = -1;
    this.#armed = [];
  }

  push(request: PushRequest): Promise<PushResponse> {
    return this.#call('push', request, async (r) => {
      const response = await this.#edge.push(r);
      this.#delivered.push(r);
      if (this.#delivered.length > KEPT) this.#delivered.shift();
      if (response.outcome === 'applied') {
        this.#ledger.saw(response.replayed ? 'push replayed' : 'push applied');
        for (const result of response.results) this.#ledger.saw(`entry ${result.status}`);
      } else this.#ledger.saw(`push ${response.outcome}`);
      this.#ledger.note(`    ${this.#name} push ${describePush(r)} -> ${describeAnswer(response)}`);
      return response;
    });
  }

  pull(request: PullRequest): Promise<PullResponse> {
    return this.#call('pull', request, async (r) => {
      const response = await this.#edge.pull(r);
      if ('reset' in response) this.#ledger.saw(`pull reset ${response.reset}`);
      this.#ledger.note(
        `    ${this.#name} pull after ${r.cursor?.position ?? 0} -> ${
          'reset' in response
            ? `reset (${response.reset})`
            : response.events.map((e) => `${e.metadata.aggregateId}@${e.version}`).join(' ') ||
              'nothing'
        }`,
      );
      return response;
    });
  }

  async #call<Q, A>(kind: 'push' | 'pull', request: Q, send: (q: Q) => Promise<A>): Promise<A> {
    if (this.#step < this.#partitionedUntil) {
      this.#ledger.fault('partitioned');
      throw networkError();
    }
    if (this.#step < this.#expiredUntil) {
      this.#ledger.fault('unauthorized');
      throw unauthorized();
    }
    // A late delivery needs a push, and an earlier one to deliver.
    const applies = (fault: CallFault) =>
      fault !== 'reordered' || (kind === 'push' && this.#delivered.length > 0);
    let armed: Armed | undefined;
    if (this.#step < this.#flakyUntil && this.#random() < 0.5) {
      const fault = FLAKY[Math.floor(this.#random() * FLAKY.length)] as CallFault;
      const pick = Math.floor(this.#random() * 8);
      armed = { fault: applies(fault) ? fault : 'lost-request', on: kind, pick };
    } else {
      const at = this.#armed.findIndex(
        (a) => (a.on === 'any' || a.on === kind) && applies(a.fault),
      );
      armed = at < 0 ? undefined : this.#armed.splice(at, 1)[0];
    }
    switch (armed?.fault) {
      case undefined:
        return send(request);
      case 'lost-request':
        this.#ledger.fault('lost-request');
        throw networkError();
      case 'lost-response':
        await send(request);
        this.#ledger.fault('lost-response');
        throw networkError();
      case 'duplicated': {
        // One copy after the other, or both at once (racing at the edge).
        const [first, second] =
          armed.pick % 4 < 2
            ? [await send(request), await send(request)]
            : await Promise.all([send(request), send(request)]);
        this.#ledger.fault('duplicated');
        return armed.pick % 2 === 0 ? first : second;
      }
      case 'reordered': {
        const old = this.#delivered[armed.pick % this.#delivered.length] as PushRequest;
        await this.#late(old);
        return send(request);
      }
    }
  }

  /** Delivers an earlier push again: the edge must answer fenced or replayed, appending nothing. */
  async #late(old: PushRequest): Promise<void> {
    this.#ledger.fault('reordered');
    const before = await this.#edgeSize();
    let response: PushResponse;
    try {
      response = await this.#edge.push(old);
    } catch (error) {
      this.#ledger.violation(
        `${this.#name}: a late push (epoch ${old.epoch}, seq ${old.seq}) failed: ${String(error)}`,
      );
      return;
    }
    this.#ledger.note(
      `    ${this.#name} late push ${describePush(old)} -> ${describeAnswer(response)}`,
    );
    const after = await this.#edgeSize();
    const harmless =
      response.outcome === 'fenced' || (response.outcome === 'applied' && response.replayed);
    if (!harmless) {
      this.#ledger.violation(
        `${this.#name}: a late push (epoch ${old.epoch}, seq ${old.seq}) was answered ${JSON.stringify(response)}`,
      );
    }
    if (after !== before) {
      this.#ledger.violation(
        `${this.#name}: a late push (epoch ${old.epoch}, seq ${old.seq}) appended ${after - before} events`,
      );
    }
  }
}
