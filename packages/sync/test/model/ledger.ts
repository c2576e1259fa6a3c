/**
 * What the model knows of one run: every message id the replicas could have sent, the
 * appends the app saw succeed, the pending events the app settled away, the faults
 * injected, and any property found broken while the run went on.
 */

export const FAULT_KINDS = [
  'lost-request',
  'lost-response',
  'duplicated',
  'reordered',
  'partitioned',
  'unauthorized',
  'crash',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultCounts = Record<FaultKind, number>;

export const noFaults = (): FaultCounts =>
  Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as FaultCounts;

export const totalOf = (counts: FaultCounts): number =>
  FAULT_KINDS.reduce((sum, kind) => sum + counts[kind], 0);

export const describeFaults = (counts: FaultCounts): string =>
  FAULT_KINDS.filter((kind) => counts[kind] > 0)
    .map((kind) => `${counts[kind].toLocaleString('en')} ${kind}`)
    .join(', ') || 'none';

export interface Origin {
  readonly replica: number;
  readonly stream: string;
}

export class Ledger {
  readonly faults: FaultCounts = noFaults();
  /** Every id a replica's generator made or the app gave: anything else at the edge is a phantom. */
  readonly issued = new Set<string>();
  /** Events of appends (and settlements) whose promise resolved: they must reach the edge once. */
  readonly acked = new Map<string, Origin>();
  /** Pending events a settlement replaced or discarded: they must never reach the edge. */
  readonly dropped = new Map<string, Origin>();
  readonly violations: string[] = [];
  /** What happened, step by step, for the report of a failure. */
  readonly trace: string[] = [];
  /** What the edge answered, counted by kind: which paths the run took. */
  readonly seen = new Map<string, number>();

  saw(what: string): void {
    this.seen.set(what, (this.seen.get(what) ?? 0) + 1);
  }

  fault(kind: FaultKind): void {
    this.faults[kind]++;
  }

  violation(message: string): void {
    this.violations.push(message);
  }

  note(line: string): void {
    this.trace.push(line);
  }

  acknowledge(ids: readonly string[], origin: Origin): void {
    for (const id of ids) {
      this.issued.add(id);
      this.acked.set(id, origin);
      this.dropped.delete(id);
    }
  }

  drop(ids: readonly string[], origin: Origin): void {
    for (const id of ids) this.dropped.set(id, origin);
  }
}
