import { fileURLToPath } from 'node:url';
import { Value } from 'typebox/value';
import { type Actor, type Client, ClientSchema, CommandTypes, type Contract, loadStageProcess } from '@trackme/contracts';
import { describe, expect, it } from 'vitest';
import { type ClientCommand, type DecideContext, decide } from '../../src/clients/decide.js';

const stages = loadStageProcess(fileURLToPath(new URL('../../../../config/stages.yaml', import.meta.url)));
const context: DecideContext = { process: stages, now: new Date('2026-03-01T10:00:00Z') };
const actor: Actor = { subject: 'agent-7', role: 'sales' };
const CLIENT_ID = 'client-1';

/** A contract with all nine fields, as the older service's callers send it. */
const fullContract: Contract = {
  id: 'k-1',
  name: 'Premium plan',
  number: 'PR-2024-001',
  status: 'active',
  conclusion_date: '2024-01-15T10:00:00+03:00',
  expiration_date: '2025-01-15T10:00:00Z',
  amount: 1499.5,
  payment_frequency: 'monthly',
  autopayment: 'disabled',
};

const create = (contracts: Contract[]): ClientCommand => ({
  type: CommandTypes.createClient,
  data: { client_id: CLIENT_ID, fields: { name: 'Ada Lovelace', email: 'ada@example.com', contracts }, actor },
});
const patch = (contracts: Contract[]): ClientCommand => ({ type: CommandTypes.patchClient, data: { client_id: CLIENT_ID, fields: { contracts }, actor } });

function created(contracts: Contract[]): Client {
  return decide(create(contracts), null, context).client!;
}

describe('contracts with all nine fields', () => {
  it('keeps every field of a created contract, dates in UTC', () => {
    // Given a create whose contract carries every field of the older service
    // When it is decided
    const client = created([fullContract]);
    // Then every field is kept, the dates normalised to UTC like last_login
    expect(client.contracts).toEqual([
      { ...fullContract, conclusion_date: '2024-01-15T07:00:00.000Z', expiration_date: '2025-01-15T10:00:00.000Z' },
    ]);
  });

  it('answers the earliest and latest dates a caller may send as valid UTC instants, which change events can carry', () => {
    const client = created([{ ...fullContract, conclusion_date: '1000-01-01T00:00:00+23:59', expiration_date: '8999-12-31T23:59:59.999-23:59' }]);
    expect(client.contracts[0]).toMatchObject({ conclusion_date: '0999-12-31T00:01:00.000Z', expiration_date: '9000-01-01T23:58:59.999Z' });
    expect(Value.Check(ClientSchema, client)).toBe(true);
  });

  it("keeps the older README's two-field contract as it is", () => {
    expect(created([{ id: 'contract123', autopayment: 'enabled' }]).contracts).toEqual([{ id: 'contract123', autopayment: 'enabled' }]);
  });

  it('trims the text fields of a contract', () => {
    const client = created([{ ...fullContract, name: '  Premium plan ', number: ' PR-2024-001', status: 'active ', payment_frequency: ' monthly ' }]);
    expect(client.contracts[0]).toMatchObject({ name: 'Premium plan', number: 'PR-2024-001', status: 'active', payment_frequency: 'monthly' });
  });

  it('records a changed contract field in the ClientUpdated changes, as the next version', () => {
    // Given a client with the full contract
    const state = created([fullContract]);
    // When a PATCH changes its amount and expiration date
    const decision = decide(patch([{ ...fullContract, amount: 1600, expiration_date: '2026-01-15T10:00:00Z' }]), state, context);
    // Then the contracts change, and the event says from what to what
    const after = { ...state.contracts[0]!, amount: 1600, expiration_date: '2026-01-15T10:00:00.000Z' };
    expect(decision.client).toMatchObject({ version: 2, contracts: [after] });
    expect(decision.events).toEqual([{ type: 'ClientUpdated', changes: { contracts: { from: state.contracts, to: [after] } }, client: decision.client }]);
  });

  it('is a no-op when a contract is restated with its dates in another offset', () => {
    const state = created([fullContract]);
    const restated = { ...fullContract, conclusion_date: '2024-01-15T07:00:00Z', expiration_date: '2025-01-15T12:00:00.000+02:00' };
    const decision = decide(patch([restated]), state, context);
    expect(decision).toEqual({ outcome: 'unchanged', client: state, events: [] });
  });

  it('clears a contract field a PATCH of the contracts leaves out', () => {
    const state = created([fullContract]);
    const { amount: _amount, ...withoutAmount } = fullContract;
    const decision = decide(patch([withoutAmount]), state, context);
    expect(decision.client!.contracts[0]).not.toHaveProperty('amount');
    expect(decision.events.map((e) => e.type)).toEqual(['ClientUpdated']);
  });
});
