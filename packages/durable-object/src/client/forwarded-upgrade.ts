/**
 * The request a Worker forwards a socket's upgrade to an object with (the push sockets of
 * `push-sockets.ts`, the live sync sockets of `sync-object.ts`): the client's headers (the
 * upgrade's own), with `header` set to what the Worker verified. Dropped: the client's
 * credentials, and every `X-EventKV-*` header it sent. The object trusts those headers
 * because only a holder of the namespace binding can reach it; a client's copy of one (a
 * push subscription sent to the sync route, say, with an expiry of its own choosing) would
 * otherwise reach the object beside the Worker's.
 */
export const forwardedUpgrade = (request: Request, header: string, value: string): Request => {
  const headers = new Headers();
  for (const [name, field] of request.headers) {
    if (name === 'authorization' || name.startsWith('x-eventkv-')) continue;
    headers.append(name, field);
  }
  headers.set(header, value);
  return new Request(request.url, { method: 'GET', headers });
};
