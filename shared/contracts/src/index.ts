export * from './topics.js';
export * from './envelope.js';
