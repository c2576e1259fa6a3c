export type { HttpErrorCode } from './http-error.js';
export { HttpError, isHttpError, isHttpErrorCode } from './http-error.js';
export type { HttpEventStoreOptions } from './store.js';
export { createHttpEventStore } from './store.js';
export type { FetchLike } from './transport.js';
export { API_VERSION, fromWire, SESSION_HEADER, streamPath, toWire } from './wire.js';
