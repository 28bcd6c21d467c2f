import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMAND_SCHEMAS, CommandTypes, loadStageProcess, type Client, type Envelope } from '@trackme/contracts';
import { buildEnvelope, checkedMessage, type InboundMessage } from '@trackme/platform';
import { sampleClient } from '@trackme/testkit';
import { clientFields, type AppliedCommand, type ClientDocument } from '../../src/clients/client-document.js';
import { planWave, type CommandItem, type WavePlan } from '../../src/clients/wave-plan.js';

const stages = loadStageProcess(fileURLToPath(new URL('../../../../config/stages.yaml', import.meta.url)));
const context = { process: stages, now: new Date('2026-03-01T10:00:00Z') };
const actor = { subject: 'plan-test' };

function item(type: string, clientId: string, fields?: unknown, id = randomUUID()): CommandItem {
  const envelope: Envelope = buildEnvelope({ id, type, data: { client_id: clientId, actor, ...(fields ? { fields } : {}) }, correlationId: `req-${id}` });
  const message: InboundMessage = { topic: 'trackme.client-commands', partition: 0, offset: '1', key: clientId, value: null, headers: {}, timestamp: '0' };
  return { message, command: checkedMessage(envelope, COMMAND_SCHEMAS) };
}
const create = (clientId: string, email = `${clientId}@example.com`) => item(CommandTypes.createClient, clientId, { name: 'Ann Lee', email });
const patch = (clientId: string, fields: object) => item(CommandTypes.patchClient, clientId, fields);

function stored(client: Client, extra: Partial<ClientDocument> = {}): ClientDocument {
  return { ...clientFields(client), applied_commands: [], pending_events: [], ...extra };
}
const docsOf = (...docs: ClientDocument[]) => new Map(docs.map((d) => [d._id, d]));
/** Which step each command of the plan takes, by client id. */
function routes(plan: WavePlan): Record<string, string> {
  const id = (i: CommandItem) => i.command.data.client_id;
  return Object.fromEntries([
    ...plan.answered.map((a) => [id(a.item), a.outcome.outcome === 'refused' ? `refused:${a.outcome.refusal.code}` : `answered:${a.outcome.outcome}`]),
    ...plan.inserts.map((i) => [id(i.item), 'insert']),
    ...plan.changes.map((c) => [id(c.item), 'bulk']),
    ...plan.singles.map((s) => [id(s.item), `single:${s.kind}`]),
  ]);
}

describe('planning a wave of client commands', () => {
  const ann = sampleClient({ id: 'ann', email: 'ann@example.com', name: 'Ann Lee' });
  const bob = sampleClient({ id: 'bob', email: 'bob@example.com', name: 'Bob Lee' });

  it('sends plain changes to the bulk write and changes of email to a write of their own', () => {
    const plan = planWave([patch('ann', { name: 'Ann B. Lee' }), patch('bob', { email: 'ann@example.com' })], docsOf(stored(ann), stored(bob)), context);
    expect(routes(plan)).toEqual({ ann: 'bulk', bob: 'single:change' });
    expect(plan.changes[0]!.change).toMatchObject({ outcome: 'changed', next: { name: 'Ann B. Lee', version: ann.version + 1 } });
    expect(plan.changes[0]!.change.events.map((e) => e.type)).toEqual(['ClientUpdated']);
  });

  it('inserts a create of an unknown id, re-creates over a tombstone and refuses a create of a live client', () => {
    const gone = stored(sampleClient({ id: 'gone' }), { deleted: true });
    const plan = planWave([create('new'), create('gone'), create('ann')], docsOf(gone, stored(ann)), context);
    expect(routes(plan)).toEqual({ new: 'insert', gone: 'single:recreate', ann: 'refused:client_exists' });
    // the refusal is remembered on the client, so a redelivery answers it the same way
    expect(plan.refusals.map((r) => [r.previous._id, r.refusal.code])).toEqual([['ann', 'client_exists']]);
  });

  it('replays a command the client already applied instead of deciding it again', () => {
    const replayed = patch('ann', { name: 'Ann C. Lee' });
    const applied: AppliedCommand = { id: replayed.command.id, outcome: 'changed' };
    const plan = planWave([replayed], docsOf(stored(ann, { applied_commands: [applied] })), context);
    expect(plan.answered).toEqual([{ item: replayed, outcome: { outcome: 'changed', client: ann } }]);
    expect([plan.changes, plan.singles, plan.refusals]).toEqual([[], [], []]);
  });

  it('answers a change that changes nothing without writing, and refuses a missing client without remembering it', () => {
    const plan = planWave([patch('ann', { name: ann.name }), patch('nobody', { name: 'X' })], docsOf(stored(ann)), context);
    expect(routes(plan)).toEqual({ ann: 'answered:unchanged', nobody: 'refused:not_found' });
    expect(plan.refusals).toEqual([]);
  });

  it('remembers a refused change of an existing client', () => {
    const plan = planWave([item(CommandTypes.replaceClient, 'ann', { name: 'Ann', email: 'ann@example.com', stage: 'no_such_stage' })], docsOf(stored(ann)), context);
    expect(plan.refusals.map((r) => r.previous._id)).toEqual(['ann']);
    expect(plan.answered[0]!.outcome).toMatchObject({ outcome: 'refused', refusal: { reason: 'invalid' } });
  });
});
