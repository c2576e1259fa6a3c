/** JSON with every character past ASCII written as a `\uXXXX` escape. */
const NON_ASCII = /[\u007f-\uffff]/g;
const asciiJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    NON_ASCII,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/**
 * The request a Worker forwards a socket's upgrade to an object with (the push sockets of
 * `push-sockets.ts`, the live sync sockets of `sync-object.ts`): the client's headers (the
 * upgrade's own), with `header` set to what the Worker verified, as JSON in ASCII (names of
 * any script travel as `\uXXXX` escapes, which `JSON.parse` reads back as they were: a
 * header value is bytes, and the Fetch standard refuses non-ASCII ones). Dropped: the client's
 * credentials, and every `X-EventKV-*` header it sent. The object trusts those headers
 * because only a holder of the namespace binding can reach it; a client's copy of one (a
 * push subscription sent to the sync route, say, with an expiry of its own choosing) would
 * otherwise reach the object beside the Worker's.
 */
export const forwardedUpgrade = (request: Request, header: string, value: unknown): Request => {
  const headers = new Headers();
  for (const [name, field] of request.headers) {
    if (name === 'authorization' || name.startsWith('x-eventkv-')) continue;
    headers.append(name, field);
  }
  headers.set(header, asciiJson(value));
  return new Request(request.url, { method: 'GET', headers });
};
