import { fileURLToPath } from 'node:url';
import {
  type Actor,
  type Client,
  CommandTypes,
  type CreateClientBody,
  loadStageProcess,
  type PatchClientBody,
  type ReplaceClientBody,
} from '@trackme/contracts';
import { ConflictError, IllegalTransitionError, NotFoundError, ValidationError } from '@trackme/platform';
import { describe, expect, it } from 'vitest';
import { type ClientCommand, type DecideContext, decide } from '../../src/clients/decide.js';
import { errorOf } from '@trackme/testkit';

const stages = loadStageProcess(fileURLToPath(new URL('../../../../config/stages.yaml', import.meta.url)));
const now = new Date('2026-03-01T10:00:00Z');
const NOW = '2026-03-01T10:00:00.000Z';
const context: DecideContext = { process: stages, now };
const actor: Actor = { subject: 'agent-7', role: 'sales' };
const CLIENT_ID = 'client-1';

const create = (fields: CreateClientBody): ClientCommand => ({ type: CommandTypes.createClient, data: { client_id: CLIENT_ID, fields, actor } });
const replace = (fields: ReplaceClientBody): ClientCommand => ({ type: CommandTypes.replaceClient, data: { client_id: CLIENT_ID, fields, actor } });
const patch = (fields: PatchClientBody): ClientCommand => ({ type: CommandTypes.patchClient, data: { client_id: CLIENT_ID, fields, actor } });
const moveTo = (stage: string): ClientCommand => ({ type: CommandTypes.moveClientStage, data: { client_id: CLIENT_ID, fields: { stage }, actor } });
const remove = (): ClientCommand => ({ type: CommandTypes.deleteClient, data: { client_id: CLIENT_ID, actor } });

/** A client registered earlier, with every optional field set. */
function existingClient(overrides: Partial<Client> = {}): Client {
  return {
    id: CLIENT_ID,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    stage: 'data_consent',
    is_active: true,
    source: 'website',
    channel: 'organic',
    app: 'installed',
    last_login: '2026-02-20T08:30:00.000Z',
    registration_date: '2026-01-15T09:00:00.000Z',
    last_updated: '2026-02-20T08:30:00.000Z',
    contracts: [{ id: 'c-1', name: 'Basic plan', amount: 100, autopayment: 'enabled' }],
    version: 4,
    ...overrides,
  };
}

/** The PUT body that restates `client` exactly, in its current stage. */
function sameAs(client: Client): ReplaceClientBody {
  return {
    name: client.name,
    email: client.email,
    stage: client.stage,
    is_active: client.is_active,
    ...(client.source !== null ? { source: client.source } : {}),
    ...(client.channel !== null ? { channel: client.channel } : {}),
    app: client.app,
    ...(client.last_login !== null ? { last_login: client.last_login } : {}),
    contracts: client.contracts,
  };
}

describe('creating a client', () => {
  it('registers the client now, at version 1, in the first stage, with one ClientCreated event', () => {
    // Given no client with this id
    // When it is created with only the required fields
    const decision = decide(create({ name: 'Ada Lovelace', email: 'ada@example.com' }), null, context);
    // Then
    expect(decision.outcome).toBe('created');
    expect(decision.client).toMatchObject({
      id: CLIENT_ID,
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      stage: 'registration',
      registration_date: NOW,
      last_updated: NOW,
      version: 1,
    });
    expect(decision.events).toEqual([{ type: 'ClientCreated', client: decision.client }]);
  });

  it('fills the optional fields with their defaults', () => {
    const { client } = decide(create({ name: 'Ada', email: 'ada@example.com' }), null, context);
    expect(client).toMatchObject({ is_active: true, app: 'not_installed', contracts: [], source: null, channel: null, last_login: null });
  });

  it('keeps every optional field given, normalising last_login to UTC', () => {
    const contracts = [{ id: 'c-1', autopayment: 'disabled' as const }];
    const { client } = decide(
      create({
        name: 'Ada',
        email: 'ada@example.com',
        stage: 'form_filling',
        is_active: false,
        source: 'partner',
        channel: 'referral',
        app: 'installed',
        last_login: '2026-02-28T12:00:00+02:00',
        contracts,
      }),
      null,
      context,
    );
    expect(client).toMatchObject({
      stage: 'form_filling',
      is_active: false,
      source: 'partner',
      channel: 'referral',
      app: 'installed',
      last_login: '2026-02-28T10:00:00.000Z',
      contracts,
    });
  });

  it('trims the name and the email', () => {
    const { client } = decide(create({ name: '  Ada Lovelace \t', email: ' ada@example.com  ' }), null, context);
    expect(client).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com' });
  });

  it('refuses two contracts with the same id', () => {
    const error = errorOf(() =>
      decide(
        create({
          name: 'Ada',
          email: 'ada@example.com',
          contracts: [
            { id: 'c-1', autopayment: 'enabled' },
            { id: 'c-1', autopayment: 'disabled' },
          ],
        }),
        null,
        context,
      ),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('duplicate_contract');
    expect(error.message).toContain('c-1');
  });

  it('refuses a relative stage for a new client', () => {
    const error = errorOf(() => decide(create({ name: 'Ada', email: 'ada@example.com', stage: 'next' }), null, context));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors[0]?.field).toBe('stage');
  });

  it('refuses to create a client that already exists', () => {
    // Given a client with this id
    const state = existingClient();
    // When it is created again
    const error = errorOf(() => decide(create({ name: 'Someone', email: 'someone@example.com' }), state, context));
    // Then
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('client_exists');
  });
});

describe('replacing a client (PUT)', () => {
  it('records exactly the changed fields and the stage move, as the next version', () => {
    // Given a client in data_consent
    const state = existingClient();
    // When the name changes and the client moves on to form_filling
    const decision = decide(replace({ ...sameAs(state), name: 'Ada King', stage: 'form_filling' }), state, context);
    // Then
    const expected: Client = { ...state, name: 'Ada King', stage: 'form_filling', last_updated: NOW, version: 5 };
    expect(decision.outcome).toBe('changed');
    expect(decision.client).toEqual(expected);
    expect(decision.events).toEqual([
      { type: 'ClientUpdated', changes: { name: { from: 'Ada Lovelace', to: 'Ada King' } }, client: expected },
      { type: 'ClientStageChanged', from: 'data_consent', to: 'form_filling', rollback: false, client: expected },
    ]);
  });

  it('records a move back with "prev" as a rollback and no field change', () => {
    const state = existingClient();
    const decision = decide(replace({ ...sameAs(state), stage: 'prev' }), state, context);
    expect(decision.client).toMatchObject({ stage: 'product_selection', version: 5, last_updated: NOW });
    expect(decision.events).toEqual([
      { type: 'ClientStageChanged', from: 'data_consent', to: 'product_selection', rollback: true, client: decision.client },
    ]);
  });

  it('records field changes without a stage event when the stage stays', () => {
    const state = existingClient();
    const decision = decide(replace({ ...sameAs(state), is_active: false, app: 'not_installed' }), state, context);
    expect(decision.client).toMatchObject({ stage: 'data_consent', is_active: false, app: 'not_installed', version: 5 });
    expect(decision.events).toEqual([
      {
        type: 'ClientUpdated',
        changes: { is_active: { from: true, to: false }, app: { from: 'installed', to: 'not_installed' } },
        client: decision.client,
      },
    ]);
  });

  it('clears the optional fields the new representation leaves out', () => {
    // Given a client with every optional field set
    const state = existingClient({ is_active: false });
    // When it is replaced with only the required fields
    const decision = decide(replace({ name: state.name, email: state.email, stage: state.stage }), state, context);
    // Then every omitted field is back to its default, and each is recorded as changed
    expect(decision.client).toMatchObject({
      is_active: true,
      source: null,
      channel: null,
      app: 'not_installed',
      last_login: null,
      contracts: [],
      registration_date: state.registration_date,
    });
    expect(decision.events).toHaveLength(1);
    expect(decision.events[0]).toMatchObject({
      type: 'ClientUpdated',
      changes: {
        is_active: { from: false, to: true },
        source: { from: 'website', to: null },
        channel: { from: 'organic', to: null },
        app: { from: 'installed', to: 'not_installed' },
        last_login: { from: state.last_login, to: null },
        contracts: { from: state.contracts, to: [] },
      },
    });
    expect(Object.keys((decision.events[0] as { changes: object }).changes).sort()).toEqual(
      ['app', 'channel', 'contracts', 'is_active', 'last_login', 'source'],
    );
  });

  it('is a no-op when nothing changes: no event, same version', () => {
    // Given a client
    const state = existingClient();
    // When it is replaced by the same representation in the same stage
    const decision = decide(replace(sameAs(state)), state, context);
    // Then nothing is recorded
    expect(decision).toEqual({ outcome: 'unchanged', client: state, events: [] });
  });

  it('is a no-op when last_login is restated in another notation of the same instant', () => {
    const state = existingClient();
    const decision = decide(replace({ ...sameAs(state), last_login: '2026-02-20T09:30:00+01:00' }), state, context);
    expect(decision.events).toEqual([]);
    expect(decision.client?.version).toBe(state.version);
  });

  // JSON has no key order: a caller (or a different HTTP library) restating the same contract with
  // its keys in another order has changed nothing, so no update, version bump or history entry.
  it('is a no-op when the same contracts are restated with their keys in another order', () => {
    const state = existingClient();
    const reordered = [{ autopayment: 'enabled' as const, amount: 100, name: 'Basic plan', id: 'c-1' }];
    const decision = decide(replace({ ...sameAs(state), contracts: reordered }), state, context);
    expect(decision.events).toEqual([]);
    expect(decision.client?.version).toBe(state.version);
  });

  it('refuses to replace a client that does not exist', () => {
    const error = errorOf(() => decide(replace({ name: 'Ada', email: 'ada@example.com', stage: 'registration' }), null, context));
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('refuses a stage jump the process does not allow, recording nothing', () => {
    // Given a client in data_consent
    const state = existingClient();
    // When it jumps to completed together with a name change
    const error = errorOf(() => decide(replace({ ...sameAs(state), name: 'Ada King', stage: 'completed' }), state, context));
    // Then the whole command is refused and the client is left as it was
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error.message).toContain('"data_consent"');
    expect(error.message).toContain('"completed"');
    expect(state).toEqual(existingClient());
  });

  it('refuses an unknown stage', () => {
    const state = existingClient();
    const error = errorOf(() => decide(replace({ ...sameAs(state), stage: 'onboarded' }), state, context));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors[0]?.field).toBe('stage');
  });

  it('refuses two contracts with the same id', () => {
    const state = existingClient();
    const contracts = [
      { id: 'c-9', autopayment: 'enabled' as const },
      { id: 'c-9', autopayment: 'enabled' as const },
    ];
    const error = errorOf(() => decide(replace({ ...sameAs(state), contracts }), state, context));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('duplicate_contract');
  });
});

describe('moving only the stage (PATCH …/stage)', () => {
  it('moves the stage as the next version and leaves every other field as stored', () => {
    const state = existingClient();
    const decision = decide(moveTo('form_filling'), state, context);
    const expected: Client = { ...state, stage: 'form_filling', last_updated: NOW, version: 5 };
    expect(decision).toEqual({
      outcome: 'changed',
      client: expected,
      events: [{ type: 'ClientStageChanged', from: 'data_consent', to: 'form_filling', rollback: false, client: expected }],
    });
  });

  it('moves by order with "next" and "prev", a move back being a rollback', () => {
    const state = existingClient();
    expect(decide(moveTo('prev'), state, context).events).toEqual([
      expect.objectContaining({ type: 'ClientStageChanged', from: 'data_consent', to: 'product_selection', rollback: true }),
    ]);
    expect(decide(moveTo('next'), state, context).client).toMatchObject({ stage: 'form_filling', version: 5 });
  });

  it('changes nothing for the stage the client is in', () => {
    const state = existingClient();
    expect(decide(moveTo('data_consent'), state, context)).toEqual({ outcome: 'unchanged', client: state, events: [] });
  });

  it('refuses a move the process does not allow, an unknown stage and a missing client', () => {
    const state = existingClient();
    expect(errorOf(() => decide(moveTo('completed'), state, context))).toBeInstanceOf(IllegalTransitionError);
    expect(errorOf(() => decide(moveTo('moon'), state, context))).toBeInstanceOf(ValidationError);
    expect(errorOf(() => decide(moveTo('next'), null, context))).toBeInstanceOf(NotFoundError);
  });
});

describe('patching a client (PATCH)', () => {
  it('changes only the fields given, as the next version', () => {
    // Given a client
    const state = existingClient();
    // When only its channel is patched
    const decision = decide(patch({ channel: 'paid_ads' }), state, context);
    // Then only the channel changes
    const expected: Client = { ...state, channel: 'paid_ads', last_updated: NOW, version: 5 };
    expect(decision).toEqual({
      outcome: 'changed',
      client: expected,
      events: [{ type: 'ClientUpdated', changes: { channel: { from: 'organic', to: 'paid_ads' } }, client: expected }],
    });
  });

  it('clears source, channel and last_login given as null', () => {
    const state = existingClient();
    const decision = decide(patch({ source: null, channel: null, last_login: null }), state, context);
    expect(decision.client).toMatchObject({ source: null, channel: null, last_login: null, name: state.name, app: state.app });
    expect(decision.events).toEqual([
      {
        type: 'ClientUpdated',
        changes: {
          source: { from: 'website', to: null },
          channel: { from: 'organic', to: null },
          last_login: { from: state.last_login, to: null },
        },
        client: decision.client,
      },
    ]);
  });

  it('trims a patched name and email', () => {
    const state = existingClient();
    const decision = decide(patch({ name: ' Ada King ', email: ' ada.king@example.com ' }), state, context);
    expect(decision.client).toMatchObject({ name: 'Ada King', email: 'ada.king@example.com' });
  });

  it('never moves the stage, even when a stage slips into the body', () => {
    const state = existingClient();
    const fields = { name: 'Ada King', stage: 'completed' } as PatchClientBody;
    const decision = decide(patch(fields), state, context);
    expect(decision.client?.stage).toBe('data_consent');
    expect(decision.events.map((e) => e.type)).toEqual(['ClientUpdated']);
  });

  it('is a no-op when the patch restates current values', () => {
    const state = existingClient();
    const decision = decide(patch({ source: 'website', is_active: true }), state, context);
    expect(decision).toEqual({ outcome: 'unchanged', client: state, events: [] });
  });

  it('refuses contracts with a repeated id', () => {
    const state = existingClient();
    const error = errorOf(() =>
      decide(
        patch({
          contracts: [
            { id: 'c-1', autopayment: 'enabled' },
            { id: 'c-1', autopayment: 'enabled' },
          ],
        }),
        state,
        context,
      ),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('duplicate_contract');
  });

  it('refuses to patch a client that does not exist', () => {
    expect(errorOf(() => decide(patch({ name: 'Ada' }), null, context))).toBeInstanceOf(NotFoundError);
  });
});

describe('deleting a client', () => {
  it('answers 204, leaves no client and records a ClientDeleted snapshot as the next version', () => {
    // Given a client at version 4
    const state = existingClient();
    // When it is deleted
    const decision = decide(remove(), state, context);
    // Then
    expect(decision).toEqual({
      outcome: 'deleted',
      client: null,
      events: [{ type: 'ClientDeleted', client: { ...state, last_updated: NOW, version: 5 } }],
    });
  });

  it('refuses to delete a client that does not exist', () => {
    expect(errorOf(() => decide(remove(), null, context))).toBeInstanceOf(NotFoundError);
  });
});

describe('creating a client brought over from the older service', () => {
  const imported = { registration_date: '2024-03-01T12:00:00+03:00', last_updated: '2024-04-02T10:00:00Z' };
  const importCommand = (stage?: string): ClientCommand => ({
    type: CommandTypes.createClient,
    data: { client_id: CLIENT_ID, fields: { name: 'Ann Lee', email: 'ann@example.com', ...(stage ? { stage } : {}) }, actor, imported },
  });

  it('keeps its dates and its stage, and marks the event imported', () => {
    const decision = decide(importCommand('payment_waiting'), null, context);
    expect(decision.client).toMatchObject({ stage: 'payment_waiting', registration_date: '2024-03-01T09:00:00.000Z', last_updated: '2024-04-02T10:00:00.000Z', version: 1 });
    expect(decision.events).toEqual([{ type: 'ClientCreated', client: decision.client, imported: true }]);
  });

  it('may start in a stage that new clients may not start in, but not in one that is not configured', () => {
    const onlyRegistration: DecideContext = {
      now,
      process: { ...stages, initialIds: new Set(['registration']) },
    };
    expect(errorOf(() => decide(create({ name: 'Ann Lee', email: 'ann@example.com', stage: 'payment_waiting' }), null, onlyRegistration))).toBeInstanceOf(ValidationError);
    expect(decide(importCommand('payment_waiting'), null, onlyRegistration).client?.stage).toBe('payment_waiting');
    expect(errorOf(() => decide(importCommand('archived'), null, context))).toBeInstanceOf(ValidationError);
  });
});
