import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

interface RequestContext {
  correlationId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with a correlation id that every log line and outgoing message inside it carries. */
export function withCorrelation<T>(correlationId: string | undefined, fn: () => T): T {
  return storage.run({ correlationId: correlationId || randomUUID() }, fn);
}

/** Runs `fn` outside any correlation (work that serves many requests at once, e.g. a batch). */
export function withoutCorrelation<T>(fn: () => T): T {
  return storage.exit(fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** Binds the rest of the current async flow (e.g. a fastify request) to a correlation id. */
export function enterCorrelation(correlationId: string): void {
  storage.enterWith({ correlationId });
}
