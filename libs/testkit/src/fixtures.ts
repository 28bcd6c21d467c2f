import type { Client } from '@trackme/contracts';

/** A valid client as events carry it and the read side stores it; override what the test is about. */
export function sampleClient(overrides: Partial<Client> = {}): Client {
  const id = overrides.id ?? 'c1';
  return {
    id,
    name: `Client ${id}`,
    email: `${id}@example.com`,
    stage: 'registration',
    is_active: true,
    source: null,
    channel: null,
    app: 'installed',
    last_login: null,
    registration_date: '2026-11-01T00:00:00.000Z',
    last_updated: '2026-11-01T00:00:00.000Z',
    contracts: [],
    version: 1,
    ...overrides,
  };
}
