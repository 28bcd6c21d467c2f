import { describe, expect, it } from 'vitest';
import { parseEach, type InboundMessage } from '@trackme/platform';
import { parseActivity } from '../../src/activity/activity-intake.js';

const NOW = new Date('2026-11-26T12:00:00Z');

const message = (value: string | Buffer, offset: number): InboundMessage => ({
  topic: 'trackme.activity',
  partition: 0,
  offset: String(offset),
  key: 'k',
  value: Buffer.isBuffer(value) ? value : Buffer.from(value),
  headers: {},
  timestamp: '0',
});

describe('reading activity events', () => {
  // the dead letters on trackme.activity.dlq say why, one line per problem, and nothing else
  it('reads garbage and invalid events as dead letters with their reason and every field error', () => {
    const garbage = message(Buffer.from([0xff, 0x00, 0x7b]), 1);
    const invalid = message(JSON.stringify({ event_id: 'e1', type: 'logout', client_id: 'c1', occurred_at: '2026-11-26T00:00:00Z', extra: true }), 2);
    const future = message(JSON.stringify({ event_id: 'e2', type: 'login', client_id: 'c1', occurred_at: '2026-11-27T00:00:00Z' }), 3);
    const valid = message(JSON.stringify({ event_id: 'e3', type: 'login', client_id: 'c1', occurred_at: '2026-11-26T00:00:00Z' }), 4);

    const { parsed, rejected } = parseEach((m: InboundMessage) => parseActivity(m, NOW), [garbage, invalid, future, valid]);

    expect(parsed.map((p) => [p.message, p.value.event_id])).toEqual([[valid, 'e3']]);
    expect(rejected.map((r) => [r.message, r.reason])).toEqual([
      [garbage, 'invalid_json'],
      [invalid, 'invalid_event'],
      [future, 'invalid_event'],
    ]);
    expect(rejected[0]!.errors).toHaveLength(1);
    expect(rejected[0]!.errors[0]).toMatch(/^message value is not JSON: /);
    expect(rejected[1]!.errors).toEqual(
      expect.arrayContaining(['extra: must not have additional properties', 'type: must be one of: login, app_installed, app_uninstalled, autopayment_enabled, autopayment_disabled']),
    );
    expect(rejected[1]!.errors.every((line) => /^\w+: /.test(line))).toBe(true);
    expect(rejected[2]!.errors).toEqual(['occurred_at: must not be more than 5 minutes in the future']);
  });
});
