import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Backend } from '../backends';
import { type Explanation, explain } from '../explain';

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
 * after the component is gone.
 */
export const useTask = () => {
  const alive = useRef(true);
  const [busy, setBusy] = useState(false);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const run = async <T,>(work: () => Promise<T>, onError: (error: unknown) => void) => {
    setBusy(true);
    try {
      return await work();
    } catch (error) {
      if (alive.current) onError(error);
      return undefined;
    } finally {
      if (alive.current) setBusy(false);
    }
  };
  return { busy, run, alive };
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
