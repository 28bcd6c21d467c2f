export * from './topics.js';
export * from './envelope.js';
export * from './stages.js';
export * from './clients.js';
export * from './commands.js';
export * from './events.js';
export * from './client-views.js';
export * from './stored-client.js';
