import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Backend } from '../backends';
import { type Explanation, explain } from '../explain';
import type { LedgerEvent } from '../ledger';
import { shortId } from './format';

/** Explains a failure of an operation on a backend (naming the endpoint when remote). */
export const explainOn = (backend: Backend, error: unknown): Explanation =>
  explain(error, backend.endpoint);

/** A failure shown to the person, announced to screen readers. */
export const Problem = ({ problem }: { problem: Explanation | undefined }) =>
  problem ? (
    <p class={`problem ${problem.kind}`} role="alert">
      {problem.kind === 'unreachable' && <strong>Endpoint unreachable. </strong>}
      {problem.message}
    </p>
  ) : null;

/**
 * Runs async work for a component and keeps its failure, ignoring results that arrive
 * after the component is gone. It is busy while any of its work runs (work started from
 * a failure's handler included).
 */
export const useTask = () => {
  const alive = useRef(true);
  const [running, setRunning] = useState(0);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const run = async <T,>(work: () => Promise<T>, onError: (error: unknown) => void) => {
    setRunning((n) => n + 1);
    try {
      return await work();
    } catch (error) {
      if (alive.current) onError(error);
      return undefined;
    } finally {
      if (alive.current) setRunning((n) => n - 1);
    }
  };
  return { busy: running > 0, run, alive };
};

export const Section = ({
  title,
  children,
  class: className,
}: {
  title: string;
  children: ComponentChildren;
  class?: string;
}) => {
  const id = `section-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section aria-labelledby={id} class={className}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
};

/** A table's header row. */
export const Columns = ({ names }: { names: readonly string[] }) => (
  <thead>
    <tr>
      {names.map((name) => (
        <th key={name} scope="col">
          {name}
        </th>
      ))}
    </tr>
  </thead>
);

/** Who did it and as part of what: the user and correlation id cells of an event's row. */
export const ProvenanceCells = ({ event }: { event: LedgerEvent }) => (
  <>
    <td>{event.metadata.userId ?? '—'}</td>
    <td title={event.metadata.correlationId}>
      <code>{shortId(event.metadata.correlationId)}</code>
    </td>
  </>
);

/**
 * Room for a wide table to scroll sideways on a narrow screen, where a hint says so (and
 * shadows show at the edges that hide columns). It takes the keyboard focus, so that it can
 * be scrolled without a pointer.
 */
export const Scroll = ({ label, children }: { label: string; children: ComponentChildren }) => (
  <>
    <p class="hint">Swipe the table sideways to see all of its columns.</p>
    {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1) */}
    <section class="scroll" tabIndex={0} aria-label={label}>
      {children}
    </section>
  </>
);
