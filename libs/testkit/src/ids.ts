import { randomBytes } from 'node:crypto';

/** A short random id, unique enough for names of test topics, groups and databases. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A topic prefix that isolates one test's topics and groups from every other test. */
export function uniqueTopicPrefix(): string {
  return `${uniqueId('test-')}.`;
}
