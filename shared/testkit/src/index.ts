export * from './stack.js';
export * from './ids.js';
export * from './wait.js';
export * from './processes.js';
export * from './tcp-proxy.js';
export * from './in-process.js';
export * from './isolated.js';
export * from './topic-reader.js';
