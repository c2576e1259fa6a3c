/**
 * What `GET .../events` weighs an event's data and metadata with: core's `payloadSize`,
 * which counts the plain values events are made of in one allocation-free walk (that walk
 * lives in core, beside the rules it follows; the route predates it and imports `sizeOf`).
 */
export { payloadSize as sizeOf } from '@eventkv/core';
