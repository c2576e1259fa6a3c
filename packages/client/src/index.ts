export type { HttpErrorCode } from './http-error.js';
export { HttpError, isHttpError, isHttpErrorCode } from './http-error.js';
export type {
  PushSocket,
  PushSocketConstructor,
  PushSocketEvent,
} from './live-socket.js';
export type { LivePushSettings } from './live-tail.js';
export type { HttpEventStoreOptions } from './store.js';
export { createHttpEventStore } from './store.js';
export { claimedDatabase } from './token.js';
export type {
  FetchLike,
  RequestSpec,
  TokenSource,
  Transport,
  TransportOptions,
} from './transport.js';
export { createTransport } from './transport.js';
export {
  API_VERSION,
  fromWire,
  HOLDS_HEADER,
  holdsHeaders,
  MAX_HOLDS,
  MAX_HOLDS_LENGTH,
  SESSION_HEADER,
  streamPath,
  toWire,
} from './wire.js';
