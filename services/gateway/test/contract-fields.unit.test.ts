import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Value } from 'typebox/value';
import { CreateClientBodySchema, CreateClientCommandSchema, PatchClientBodySchema } from '@trackme/contracts';
import { createHttpServer, createLogger } from '@trackme/platform';

/**
 * The nine contract fields as the HTTP edge validates them (the shared body schemas with the
 * services' validator), and the agreement between that edge and the message schema the clients
 * service checks: what the gateway lets through must never be refused behind it.
 */

function server() {
  const app = createHttpServer({ logger: createLogger('test', 'silent'), registry: new Registry(), readiness: {} });
  app.post('/clients', { schema: { body: CreateClientBodySchema } }, async (request) => request.body);
  app.patch('/clients/c1', { schema: { body: PatchClientBodySchema } }, async (request) => request.body);
  return app;
}
const app = server();
afterAll(() => app.close());

const fullContract = {
  id: 'k-1',
  name: 'Premium plan',
  number: 'PR-2024-001',
  status: 'active',
  conclusion_date: '2024-01-15T10:00:00Z',
  expiration_date: '2025-01-15T10:00:00.000+03:00',
  amount: 1499.5,
  payment_frequency: 'monthly',
  autopayment: 'enabled',
};

const createWith = (contract: Record<string, unknown>) => ({ name: 'Ann Lee', email: 'ann@example.com', contracts: [contract] });

/** [what, contract, the field the problem must name] */
const BAD: Array<[string, Record<string, unknown>, string]> = [
  ['a blank name', { ...fullContract, name: '   ' }, 'contracts.0.name'],
  ['an empty name', { ...fullContract, name: '' }, 'contracts.0.name'],
  ['a name over 200 characters', { ...fullContract, name: 'n'.repeat(201) }, 'contracts.0.name'],
  ['a numeric name', { ...fullContract, name: 7 }, 'contracts.0.name'],
  ['a blank number', { ...fullContract, number: ' ' }, 'contracts.0.number'],
  ['a number over 100 characters', { ...fullContract, number: '9'.repeat(101) }, 'contracts.0.number'],
  ['a numeric number', { ...fullContract, number: 42 }, 'contracts.0.number'],
  ['a blank status', { ...fullContract, status: '' }, 'contracts.0.status'],
  ['a status over 50 characters', { ...fullContract, status: 's'.repeat(51) }, 'contracts.0.status'],
  ['a conclusion date without a time', { ...fullContract, conclusion_date: '2024-01-15' }, 'contracts.0.conclusion_date'],
  ['a conclusion date without an offset', { ...fullContract, conclusion_date: '2024-01-15T10:00:00' }, 'contracts.0.conclusion_date'],
  ['a conclusion date as DD.MM.YYYY', { ...fullContract, conclusion_date: '15.01.2024' }, 'contracts.0.conclusion_date'],
  ['an impossible expiration date', { ...fullContract, expiration_date: '2025-02-30T10:00:00Z' }, 'contracts.0.expiration_date'],
  ['an expiration date with a leap second', { ...fullContract, expiration_date: '2016-12-31T23:59:60Z' }, 'contracts.0.expiration_date'],
  ['an expiration date with a space for T', { ...fullContract, expiration_date: '2025-01-15 10:00:00Z' }, 'contracts.0.expiration_date'],
  ['a conclusion date that is year -1 in UTC', { ...fullContract, conclusion_date: '0000-01-01T00:00:00+23:59' }, 'contracts.0.conclusion_date'],
  ['an expiration date beyond year 8999', { ...fullContract, expiration_date: '9999-12-31T23:59:59-23:59' }, 'contracts.0.expiration_date'],
  ['an expiration date as epoch ms', { ...fullContract, expiration_date: 1736935200000 }, 'contracts.0.expiration_date'],
  ['a negative amount', { ...fullContract, amount: -0.01 }, 'contracts.0.amount'],
  ['an amount as text', { ...fullContract, amount: '1499.50' }, 'contracts.0.amount'],
  ['an amount beyond 10^12', { ...fullContract, amount: 1e13 }, 'contracts.0.amount'],
  ['a blank payment frequency', { ...fullContract, payment_frequency: '  ' }, 'contracts.0.payment_frequency'],
  ['a payment frequency over 50 characters', { ...fullContract, payment_frequency: 'm'.repeat(51) }, 'contracts.0.payment_frequency'],
  ['an autopayment other than enabled or disabled', { ...fullContract, autopayment: 'on' }, 'contracts.0.autopayment'],
  ['no autopayment', { id: 'k-1', name: 'Premium plan' }, 'contracts.0.autopayment'],
  ['an unknown field', { ...fullContract, currency: 'EUR' }, 'contracts.0.currency'],
  ['a null field', { ...fullContract, amount: null }, 'contracts.0.amount'],
];

describe('a contract on POST /clients', () => {
  it('accepts all nine fields of the older service', async () => {
    const answer = await app.inject({ method: 'POST', url: '/clients', payload: createWith(fullContract) });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json().contracts).toEqual([fullContract]);
  });

  it("accepts the older README's contract of two fields", async () => {
    const answer = await app.inject({ method: 'POST', url: '/clients', payload: createWith({ id: 'contract123', autopayment: 'enabled' }) });
    expect(answer.statusCode, answer.body).toBe(200);
  });

  it('accepts an amount of zero and dates with any offset or fraction', async () => {
    const contract = { ...fullContract, amount: 0, conclusion_date: '2024-01-15T10:00:00.123456-05:30', expiration_date: '2025-01-15T10:00:00+14:00' };
    expect((await app.inject({ method: 'POST', url: '/clients', payload: createWith(contract) })).statusCode).toBe(200);
  });

  it.each(BAD)('refuses %s with 400 problem+json naming the field', async (_what, contract, field) => {
    const answer = await app.inject({ method: 'POST', url: '/clients', payload: createWith(contract) });
    expect(answer.statusCode, answer.body).toBe(400);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json().errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it.each(BAD)('refuses %s on PATCH too', async (_what, contract, field) => {
    const answer = await app.inject({ method: 'PATCH', url: '/clients/c1', payload: { contracts: [contract] } });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors.map((e: { field: string }) => e.field)).toContain(field);
  });
});

describe('the HTTP edge and the command schema', () => {
  const command = (fields: unknown) => ({ client_id: 'c1', actor: { subject: 'test' }, fields });

  it.each(BAD)('agree on refusing %s', (_what, contract) => {
    expect(Value.Check(CreateClientCommandSchema, command(createWith(contract)))).toBe(false);
  });

  it('agree on accepting the full contract', () => {
    expect(Value.Check(CreateClientCommandSchema, command(createWith(fullContract)))).toBe(true);
  });
});

describe('last_login, an instant like the contract dates', () => {
  it.each([
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['a space for T', '2024-01-15 10:00:00Z'],
  ])('is refused with %s, which the services could not store', async (_what, lastLogin) => {
    const answer = await app.inject({ method: 'POST', url: '/clients', payload: { name: 'Ann Lee', email: 'ann@example.com', last_login: lastLogin } });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors.map((e: { field: string }) => e.field)).toContain('last_login');
  });
});
