import { describe, expect, it } from 'vitest';
import { PoisonMessageError, type InboundMessage } from '@trackme/platform';
import { errorOf, sampleClient } from '@trackme/testkit';
import { changeFacts } from '../../src/events/invalidation.js';

const client = sampleClient({ version: 4 });

const message = (value: unknown): InboundMessage => ({
  topic: 'trackme.client-events',
  partition: 0,
  offset: '1',
  key: 'c1',
  headers: {},
  timestamp: '0',
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

const envelope = (type: string, data: unknown) => ({
  id: 'e1',
  type,
  version: 1,
  occurred_at: '2026-11-26T00:00:00.000Z',
  correlation_id: 'x',
  data,
});

describe('changeFacts', () => {
  it('takes the id, version and snapshot of a change event', () => {
    expect(changeFacts(message(envelope('ClientStageChanged', { client_id: 'c1', version: 4, client })))).toEqual({
      clientId: 'c1',
      version: 4,
      client,
    });
  });

  it('turns a deletion into a tombstone at its version', () => {
    expect(changeFacts(message(envelope('ClientDeleted', { client_id: 'c1', version: 5, client })))).toEqual({
      clientId: 'c1',
      version: 5,
      client: null,
    });
  });

  it('still invalidates for an event type it does not know, without a snapshot', () => {
    expect(changeFacts(message(envelope('ClientSomethingNew', { client_id: 'c1', version: 6 })))).toEqual({
      clientId: 'c1',
      version: 6,
      client: undefined,
    });
  });

  it.each([
    ['bytes that are not JSON', 'not json {', 'invalid_json'],
    ['JSON that is not an envelope', { hello: 'world' }, 'invalid_envelope'],
    ['an event without a client id', envelope('ClientCreated', { version: 1 }), 'invalid_schema'],
    ['an event without a version', envelope('ClientCreated', { client_id: 'c1' }), 'invalid_schema'],
  ])('refuses %s as poison (reason %s)', (_case, value, reason) => {
    const error = errorOf(() => changeFacts(message(value)));
    expect(error).toBeInstanceOf(PoisonMessageError);
    expect((error as PoisonMessageError).reason).toBe(reason);
  });
});
