import { describe, expect, it } from 'vitest';
import { checkActivityBatch } from '../src/activity/check-batch.js';

const now = new Date('2025-05-01T12:00:00Z');
const login = (eventId: string) => ({ event_id: eventId, type: 'login', client_id: 'c-1', occurred_at: '2025-05-01T11:59:00Z' });

describe('checkActivityBatch', () => {
  it('accepts the valid events and rejects the others, one result per item in the order sent', () => {
    const checked = checkActivityBatch([login('a'), { ...login('b'), type: 'jump' }, login('c')], now);
    expect(checked.accepted.map((e) => e.event_id)).toEqual(['a', 'c']);
    expect(checked.results.map((r) => [r.index, r.event_id, r.status])).toEqual([
      [0, 'a', 'accepted'],
      [1, 'b', 'rejected'],
      [2, 'c', 'accepted'],
    ]);
    expect(checked.results[0]).not.toHaveProperty('errors');
    expect(checked.results[1]!.errors).toEqual([{ field: 'type', message: expect.stringContaining('must be one of') }]);
  });

  it('echoes an event_id only when the item has one that is a string', () => {
    const checked = checkActivityBatch([{ ...login('x'), event_id: 42 }, null, 'login', { ...login('y'), color: 'red' }], now);
    expect(checked.results.map((r) => r.event_id)).toEqual([undefined, undefined, undefined, 'y']);
    expect(checked.results.every((r) => r.status === 'rejected')).toBe(true);
  });

  it('accepts both events of a batch that repeats an event_id (the consumer applies each id once)', () => {
    expect(checkActivityBatch([login('same'), login('same')], now).accepted).toHaveLength(2);
  });
});
