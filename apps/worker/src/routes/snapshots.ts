import { InvalidArgumentError } from '@eventkv/core';
import { Hono } from 'hono';
import { readBody } from '../body.js';
import type { ApiEnv } from '../context.js';
import { parseInteger, queryParams } from '../params.js';
import { streamOf, wire } from '../respond.js';

const versionParam = (raw: string): number => {
  const version = parseInteger('version', raw)!;
  if (version < 1) throw new InvalidArgumentError('version', 'must be at least 1');
  return version;
};

/** Routes under `/v1/{database}/streams/{type}/{id}/snapshots`. */
export const snapshotRoutes = new Hono<ApiEnv>()
  .post('/', async (c) => {
    queryParams(c.req.url, []);
    const body = await readBody(c.req.raw, c.get('settings').maxBodyBytes, true);
    if (typeof body !== 'object' || body === null || !('version' in body) || !('state' in body)) {
      throw new InvalidArgumentError('body', 'must be an object { version, state }');
    }
    const { version, state } = body as { version: number; state: unknown };
    await (await streamOf(c)).saveSnapshot(version, state);
    return wire({ version }, 201);
  })
  .get('/', async (c) => {
    queryParams(c.req.url, []);
    return wire({ versions: await (await streamOf(c)).snapshotVersions() });
  })
  .delete('/', async (c) => {
    queryParams(c.req.url, []);
    return wire({ deleted: await (await streamOf(c)).clearSnapshots() });
  })
  // `latest` is read here rather than on a route of its own: a static segment beside a
  // parameter is a pair Hono's RegExpRouter cannot take (see app.ts).
  .get('/:version', async (c) => {
    queryParams(c.req.url, []);
    const raw = c.req.param('version');
    if (raw === 'latest') return wire({ snapshot: await (await streamOf(c)).latestSnapshot() });
    return wire(await (await streamOf(c)).snapshotAt(versionParam(raw)));
  })
  .delete('/:version', async (c) => {
    queryParams(c.req.url, []);
    const version = versionParam(c.req.param('version'));
    await (await streamOf(c)).deleteSnapshot(version);
    return c.body(null, 204);
  });
