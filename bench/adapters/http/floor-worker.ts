/**
 * The floors of the HTTP bench, one Worker beside the eventkv Worker in the same workerd:
 *
 * - `* /empty`: answers 200 at once (no body read, no object): what any request costs;
 * - `POST /append/<stream>`: reads the body as text and hands it to the Durable Object
 *   `<stream>` over RPC, which does one `storage.get` (the head) and one `storage.put` (the
 *   body at the next version, and the head) and returns the new version; answered `201`
 *   `{"version":n}`. The least a Worker that durably appends a request must do;
 * - `GET /list/<stream>`: the object `<stream>` does one `storage.list` of its stored
 *   bodies and returns them; answered `200` `{"events":[...]}` (the stored texts joined, not
 *   parsed and written again). The least a Worker that reads a small range must do.
 *
 * Nothing checks the token or the body: the same requests as eventkv's, with none of its work.
 */
import { DurableObject } from 'cloudflare:workers';

const HEAD = 'head';
/** Zero-padded, so the keys sort by version. */
const eventKey = (version: number) => `e/${String(version).padStart(16, '0')}`;

export class FloorObject extends DurableObject {
  async append(body: string): Promise<number> {
    const version = ((await this.ctx.storage.get<number>(HEAD)) ?? 0) + 1;
    await this.ctx.storage.put({ [eventKey(version)]: body, [HEAD]: version });
    return version;
  }

  async list(): Promise<string[]> {
    const entries = await this.ctx.storage.list<string>({ prefix: 'e/' });
    return [...entries.values()];
  }
}

interface Env {
  readonly FLOOR: DurableObjectNamespace<FloorObject>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === '/empty') return new Response(null);
    const slash = path.indexOf('/', 1);
    const route = path.slice(0, slash);
    const object = env.FLOOR.getByName(decodeURIComponent(path.slice(slash + 1)));
    if (route === '/append' && request.method === 'POST') {
      const version = await object.append(await request.text());
      return new Response(`{"version":${version}}`, {
        status: 201,
        headers: { 'Content-Type': 'application/json' },
      });
    }
    if (route === '/list' && request.method === 'GET') {
      const bodies = await object.list();
      return new Response(`{"events":[${bodies.join(',')}]}`, {
        headers: { 'Content-Type': 'application/json' },
      });
    }
    return new Response('not found', { status: 404 });
  },
};
