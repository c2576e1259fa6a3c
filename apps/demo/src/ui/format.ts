/** "2026-11-22 14:03:07" in local time: unambiguous and sortable. */
export const formatTime = (ms: number): string => {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
};

/** The value of a `datetime-local` input as ms since the epoch, or `undefined` when empty. */
export const parseLocalDateTime = (value: string): number | undefined => {
  if (value === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
};

/** A `datetime-local` input's value for a time (minutes precision, local time). */
export const toLocalDateTime = (ms: number): string =>
  formatTime(ms).slice(0, 16).replace(' ', 'T');

/** The first block of a UUID: enough to tell correlation ids apart on screen. */
export const shortId = (id: string | undefined): string => (id ? id.slice(0, 8) : '—');

/** A count with its noun: "1 event", "2 events", "0 events". */
export const plural = (count: number, noun: string, nouns = `${noun}s`): string =>
  `${count} ${count === 1 ? noun : nouns}`;

/** "3", "3 and 4", "2, 3 and 4": a short list in a sentence. */
export const listOf = (items: readonly (string | number)[]): string =>
  items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
