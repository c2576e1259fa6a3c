/**
 * A console-compatible structured logger: each method receives a message and one object
 * of fields. `console` itself fits. eventkv is silent unless a logger is given.
 *
 * Events (the `event` field) and levels:
 *   store.opened (info), store.closed (info), session.renewed (debug),
 *   events.appended (debug), append.deduplicated (info), snapshot.saved (info),
 *   snapshots.cleared (info), session.expired (warn), version.mismatch (warn),
 *   append.rolled-back (warn), open.failed (error), rollback.failed (error).
 */
export interface Logger {
  debug?(message: string, fields: Readonly<Record<string, unknown>>): void;
  info?(message: string, fields: Readonly<Record<string, unknown>>): void;
  warn?(message: string, fields: Readonly<Record<string, unknown>>): void;
  error?(message: string, fields: Readonly<Record<string, unknown>>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const silentLogger: Logger = {};

export const log = (
  logger: Logger,
  level: LogLevel,
  event: string,
  message: string,
  fields: Record<string, unknown>,
): void => {
  const write = logger[level];
  if (!write) return;
  try {
    write.call(logger, `eventkv: ${message}`, { event, ...fields });
  } catch {
    // A failing logger must never fail the operation it reports on.
  }
};
