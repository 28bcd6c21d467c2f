import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMAND_SCHEMAS, CommandTypes, Headers, loadStageProcess, type Client, type Envelope } from '@trackme/contracts';
import { buildEnvelope, checkedMessage, type InboundMessage } from '@trackme/platform';
import { sampleClient } from '@trackme/testkit';
import { clientFields, type AppliedCommand, type ClientDocument } from '../../src/clients/client-document.js';
import { ValidationError } from '@trackme/platform';
import { planWave, refusalOutcome, rememberedOutcome, replyOf, type CommandItem, type WavePlan } from '../../src/clients/wave-plan.js';

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

  it('sends plain changes and deletes to the bulk write and changes of email to a write of their own', () => {
    const earlier: AppliedCommand = { id: randomUUID(), outcome: 'created' };
    const cy = sampleClient({ id: 'cy', email: 'cy@example.com' });
    const dee = sampleClient({ id: 'dee', email: 'dee@example.com', stage: 'registration' });
    const wave = [
      patch('ann', { name: 'Ann B. Lee' }),
      patch('bob', { email: 'ann@example.com' }),
      item(CommandTypes.deleteClient, 'cy'),
      // an email change that comes with a stage move is still a change of email
      item(CommandTypes.replaceClient, 'dee', { name: dee.name, email: 'dee.new@example.com', stage: 'next' }),
    ];
    const plan = planWave(wave, docsOf(stored(ann, { applied_commands: [earlier] }), stored(bob), stored(cy), stored(dee)), context);
    expect(routes(plan)).toEqual({ ann: 'bulk', bob: 'single:change', cy: 'bulk', dee: 'single:change' });
    expect(plan.changes[1]!.change).toMatchObject({ outcome: 'deleted', next: null });
    expect(plan.singles[1]!.kind === 'change' && plan.singles[1]!.change.events.map((e) => e.type)).toEqual(['ClientUpdated', 'ClientStageChanged']);
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

describe('the outcome a command is answered with', () => {
  const ann = sampleClient({ id: 'ann' });
  const applied = (fields: Omit<AppliedCommand, 'id'>): AppliedCommand => ({ id: 'c1', ...fields });

  it('replays a remembered refusal as it was', () => {
    const refusal = { reason: 'conflict' as const, code: 'email_taken', message: 'taken' };
    expect(rememberedOutcome(applied({ outcome: 'refused', refusal }), ann)).toEqual({ outcome: 'refused', refusal });
    expect(rememberedOutcome(applied({ outcome: 'deleted' }), ann)).toEqual({ outcome: 'deleted' });
  });

  it('reads the HTTP status and problem body that older documents remember', () => {
    expect(rememberedOutcome(applied({ status: 201 }), ann)).toEqual({ outcome: 'created', client: ann });
    expect(rememberedOutcome(applied({ status: 200 }), ann)).toEqual({ outcome: 'changed', client: ann });
    expect(rememberedOutcome(applied({ status: 204 }), ann)).toEqual({ outcome: 'deleted' });
    expect(rememberedOutcome(applied({ status: 404, problem: { code: 'not_found', detail: 'client ann not found' } }), ann)).toEqual({
      outcome: 'refused',
      refusal: { reason: 'not_found', code: 'not_found', message: 'client ann not found' },
    });
    expect(rememberedOutcome(applied({ status: 409 }), ann)).toEqual({ outcome: 'refused', refusal: { reason: 'conflict', code: 'refused', message: '' } });
    const errors = [{ field: 'stage', message: 'unknown stage' }];
    expect(rememberedOutcome(applied({ status: 400, problem: { code: 'invalid_stage', errors } }), ann)).toEqual({
      outcome: 'refused',
      refusal: { reason: 'invalid', code: 'invalid_stage', message: '', errors },
    });
  });

  it('answers a domain error as a refusal and throws anything else, to be retried', () => {
    expect(refusalOutcome(new ValidationError('bad stage', [{ field: 'stage', message: 'unknown' }]))).toMatchObject({
      outcome: 'refused',
      refusal: { reason: 'invalid', errors: [{ field: 'stage', message: 'unknown' }] },
    });
    expect(() => refusalOutcome(new Error('Mongo went away'))).toThrow('Mongo went away');
  });

  it("keys the reply by client and carries the request's correlation id, from the header when there is one", () => {
    const plain = patch('ann', { name: 'Ann' });
    const reply = replyOf(plain, { outcome: 'deleted' });
    expect(reply.key).toBe('ann');
    expect(reply.envelope).toMatchObject({ type: 'CommandReply', correlation_id: plain.command.correlation_id, data: { command_id: plain.command.id, client_id: 'ann', outcome: 'deleted' } });
    const relayed = { ...plain, message: { ...plain.message, headers: { [Headers.correlationId]: 'req-from-header' } } };
    expect(replyOf(relayed, { outcome: 'deleted' }).envelope.correlation_id).toBe('req-from-header');
  });
});
