import { env } from 'cloudflare:workers';
import { isInvalidArgumentError } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { createDurableObjectEventStore } from '../src/index.js';

describe('names that cannot name an object', () => {
  it('are INVALID_ARGUMENT before any call, under either routing', async () => {
    for (const routing of ['stream', 'database'] as const) {
      const store = createDurableObjectEventStore(env.STORE, { routing });
      for (const ref of [
        { type: 'T\ud800', id: '1' },
        { type: 'T', id: '\udc00' },
        { type: 'T', id: 'a\u0085' },
        { database: '', type: 'T', id: '1' },
      ]) {
        const error = await (async () => store.stream(ref).version())().catch((e) => e);
        expect(isInvalidArgumentError(error), `${routing} ${JSON.stringify(ref)}`).toBe(true);
        const opened = await store.open(ref).catch((e) => e);
        expect(isInvalidArgumentError(opened)).toBe(true);
      }
    }
  });
});
