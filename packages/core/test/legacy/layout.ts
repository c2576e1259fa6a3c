/**
 * The storage layout of the release before index keys (packages/core/src/keys.ts at commit
 * 0f4a16c), as the migration tests of every backend read and write it: which entries were
 * pointers to an event (message id `{db}/i/...`, log position `{db}/g/...`, query entry
 * `{db}/x/...`), and the entries that release wrote for many events, for migrations of a
 * size no fixture holds.
 */

/** A pointer entry of the previous layout: a message id, a log position or a query entry. */
export const LEGACY_POINTER = /^[^/#$]+\/[igx]\//;

const pad = (n: number) => n.toString().padStart(16, '0');

/**
 * The key of the event a pointer entry names: the test's own reading of the old layout (a
 * message id entry holds the version, under its stream's encoded type and id; the others
 * hold the stream's type, id and version).
 */
export const legacyPointerTarget = (
  key: string,
  value: { readonly version: number; readonly type?: string; readonly id?: string },
): string => {
  const [db, kind, type, id] = key.split('/');
  return kind === 'i'
    ? `${db}/e/${type}/${id}/${pad(value.version)}`
    : `${db}/e/${encodeURIComponent(value.type!)}/${encodeURIComponent(value.id!)}/${pad(value.version)}`;
};

/**
 * The entries the previous release wrote for `count` events spread over `streams` streams
 * of the `default` database (global log and the four indexes, as its defaults did), in the
 * order it wrote them, the log's head last.
 */
export function* legacyEventEntries(
  count: number,
  streams: number,
): Generator<{ key: string; value: unknown }> {
  const versions = new Array<number>(streams).fill(0);
  const start = Date.UTC(2026, 0, 1);
  for (let position = 1; position <= count; position++) {
    const s = position % streams;
    const id = `acc ${s}`;
    const encodedId = encodeURIComponent(id);
    const version = ++versions[s]!;
    const timestamp = start + position * 1000;
    const messageId = `m-${position}`;
    const userId = `user-${position % 7}`;
    const correlationId = `c/${position % 13}`;
    const type = position % 3 === 0 ? 'Withdrawn' : 'Deposited';
    yield {
      key: `default/e/Account/${encodedId}/${pad(version)}`,
      value: {
        type,
        version,
        position,
        data: { amount: position % 100, at: new Date(timestamp) },
        metadata: {
          messageId,
          schemaVersion: 1,
          timestamp,
          aggregateType: 'Account',
          aggregateId: id,
          database: 'default',
          userId,
          correlationId,
        },
      },
    };
    yield { key: `default/h/Account/${encodedId}`, value: { version, timestamp } };
    yield { key: `default/i/Account/${encodedId}/${messageId}`, value: { version } };
    const pointer = { type: 'Account', id, version };
    const suffix = `${pad(timestamp)}/${pad(position)}`;
    yield { key: `default/g/${pad(position)}`, value: pointer };
    yield { key: `default/x/eventType/${type}/${suffix}`, value: pointer };
    yield { key: `default/x/aggregateType/Account/${suffix}`, value: pointer };
    yield { key: `default/x/user/${userId}/${suffix}`, value: pointer };
    yield {
      key: `default/x/correlation/${encodeURIComponent(correlationId)}/${suffix}`,
      value: pointer,
    };
  }
  yield { key: 'default/m/log', value: { position: count } };
}
