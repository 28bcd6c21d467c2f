export * from './kafka.js';
export * from './connection.js';
export * from './headers.js';
export * from './producer.js';
export * from './consumer.js';
export * from './admin.js';
export * from './dead-letters.js';
export * from './envelopes.js';
