import { fromWire } from '@eventkv/client';
import { fail } from './failures.js';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

const DIGITS = /^\d{1,16}$/;

/** Stateless (never used with `stream: true`), so one serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** How much of an over-limit body is read and thrown away before answering 413. */
export const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads the rest of an over-limit body and discards it, up to `MAX_DRAIN_BYTES`; a body
 * larger still is cancelled.
 */
const drain = async (reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> => {
  let drained = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    drained += value.byteLength;
    if (drained > MAX_DRAIN_BYTES) {
      await reader.cancel();
      return;
    }
  }
};

/** Reads at most `limit` bytes, failing with 413 once more arrive (chunked bodies). */
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
      // Drained, not cancelled: a 413 sent while the client is still uploading makes the proxy of `wrangler dev` lose its connection to the Worker and exit.
      await drain(reader);
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
 * The wire JSON body of a request, or `undefined` when it has none (and none is required).
 * Checks the content type, the size (from `Content-Length` before reading, and while
 * reading), UTF-8 and the wire JSON form.
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
      'Request bodies must be JSON with Content-Type: application/json.',
    );
  }
  // With a Content-Length within the limit (checked above) the body is read in one call:
  // reading it chunk by chunk through a stream reader cost more Worker CPU than the rest of
  // the body handling. Chunked bodies are counted as they arrive.
  const bytes =
    length !== null && DIGITS.test(length)
      ? new Uint8Array(await request.arrayBuffer())
      : await readLimited(request.body as ReadableStream<Uint8Array>, limit);
  if (bytes.byteLength > limit) {
    // A body longer than its Content-Length said (only a request made in the Worker can be).
    return fail('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
  }
  if (bytes.byteLength === 0) {
    return required ? fail('MALFORMED_BODY', 'This request needs a JSON body.') : undefined;
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return fail('MALFORMED_BODY', 'The request body is not valid UTF-8.');
  }
  try {
    return fromWire(text);
  } catch (error) {
    return fail('MALFORMED_BODY', `The request body is not wire JSON: ${(error as Error).message}`);
  }
};
