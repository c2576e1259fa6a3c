import { fromWire } from '@eventkv/client';
import { fail } from './failures.js';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** Reads at most `limit` bytes, failing with 413 as soon as more arrive (chunked bodies). */
const readLimited = async (
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array> => {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return fail('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
};

/**
 * The superjson body of a request, or `undefined` when it has none (and none is required).
 * Checks the content type, the size (from `Content-Length` before reading, and while
 * reading), UTF-8 and the superjson shape.
 */
export const readBody = async (
  request: Request,
  limit: number,
  required: boolean,
): Promise<unknown> => {
  const length = request.headers.get('Content-Length');
  if (length !== null && Number(length) > limit) {
    return fail('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
  }
  const hasBody = request.body !== null && length !== '0';
  if (!hasBody) {
    return required ? fail('MALFORMED_BODY', 'This request needs a JSON body.') : undefined;
  }
  if (!JSON_TYPE.test(request.headers.get('Content-Type') ?? '')) {
    return fail(
      'UNSUPPORTED_MEDIA_TYPE',
      'Request bodies must be superjson documents with Content-Type: application/json.',
    );
  }
  const bytes = await readLimited(request.body as ReadableStream<Uint8Array>, limit);
  if (bytes.byteLength === 0) {
    return required ? fail('MALFORMED_BODY', 'This request needs a JSON body.') : undefined;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return fail('MALFORMED_BODY', 'The request body is not valid UTF-8.');
  }
  try {
    return fromWire(text);
  } catch (error) {
    return fail(
      'MALFORMED_BODY',
      `The request body is not a superjson document: ${(error as Error).message}`,
    );
  }
};
