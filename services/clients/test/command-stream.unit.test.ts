import { describe, expect, it } from 'vitest';
import { APPLY_ACTIVITY_TYPE } from '@trackme/contracts';
import { parseEach, type InboundMessage, type Rejected } from '@trackme/platform';
import type { ActivityItem } from '../src/activity/activity-applier.js';
import type { CommandItem } from '../src/clients/command-handler.js';
import { createCommandStream, parseStreamCommand } from '../src/command-stream.js';

let offset = 0;
function message(value: unknown): InboundMessage {
  offset += 1;
  return { topic: 'trackme.client-commands', partition: 0, offset: String(offset), key: 'k', value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), headers: {}, timestamp: '0' };
}
const envelope = (type: string, data: unknown) => ({ id: `m-${type}-${Math.random()}`, type, version: 1, occurred_at: '2026-11-26T00:00:00.000Z', correlation_id: 'c', data });
const activity = (eventId: string) =>
  message(
    envelope(APPLY_ACTIVITY_TYPE, {
      client_id: 'c1',
      event: { event_id: eventId, type: 'login', client_id: 'c1', occurred_at: '2026-11-26T00:00:00Z' },
      origin: { topic: 'trackme.activity', partition: 0, offset: '1' },
    }),
  );
const command = (clientId: string) => message(envelope('PatchClient', { client_id: clientId, actor: { subject: 's' }, fields: { name: 'N' } }));

function recorder() {
  const calls: string[] = [];
  const stream = createCommandStream({
    handleCommands: async (items: CommandItem[]): Promise<void> => {
      calls.push(`commands ${items.map((i) => i.command.data.client_id).join(',')}`);
    },
    applyActivity: async (items: ActivityItem[]): Promise<Rejected[]> => {
      calls.push(`activity ${items.map((i) => i.command.event.event_id).join(',')}`);
      return [];
    },
    changing: (clientId) => void calls.push(`changing ${clientId}`),
  });
  return { calls, stream };
}

describe('the command stream', () => {
  it('hands over each run of consecutive activity or client commands together, in partition order', async () => {
    const { calls, stream } = recorder();
    const { parsed, rejected } = parseEach(parseStreamCommand, [activity('a1'), activity('a2'), command('c1'), command('c2'), activity('a3'), command('c3')]);
    expect(rejected).toEqual([]);
    expect(await stream(parsed)).toEqual([]);
    expect(calls).toEqual(['activity a1,a2', 'changing c1', 'changing c2', 'commands c1,c2', 'activity a3', 'changing c3', 'commands c3']);
  });

  it('reads poison messages as rejected, for the dead-letter queue, and handles the others', async () => {
    const { calls, stream } = recorder();
    const garbage = message('{not json');
    const unknown = message(envelope('RenameGalaxy', { client_id: 'c1' }));
    const badActivity = message(envelope(APPLY_ACTIVITY_TYPE, { client_id: 'c1', event: { event_id: 'x' } }));
    const { parsed, rejected } = parseEach(parseStreamCommand, [garbage, activity('a1'), badActivity, unknown, activity('a2')]);
    expect(await stream(parsed)).toEqual([]);
    expect(rejected.map((r) => [r.message, r.reason])).toEqual([
      [garbage, 'invalid_json'],
      [badActivity, 'invalid_schema'],
      [unknown, 'unknown_type'],
    ]);
    // a command is checked before anything is told of its client
    expect(calls).toEqual(['activity a1,a2']);
  });
});
