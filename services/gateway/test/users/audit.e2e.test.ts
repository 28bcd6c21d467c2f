import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, spawnService, tokenFor, uniqueId, waitUntilReady, type ServiceProcess } from '@trackme/testkit';

/**
 * The audit trail of sign-in as an operator reads it: the gateway as a process, its log lines.
 * Each security event is one `audit` line with the actor; no line holds a password or a token.
 */

let gateway: ServiceProcess;
let api: string;

beforeAll(async () => {
  gateway = await spawnService('gateway', { ...(await isolatedEnv()), LOG_LEVEL: 'info' });
  await waitUntilReady(gateway, 60_000);
  api = `${gateway.url}/api/v1`;
}, 90_000);

afterAll(() => gateway?.stop());

const post = async (path: string, body: object, token?: string) =>
  fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

/** The audit lines the gateway wrote so far, parsed. */
const auditLines = () =>
  gateway
    .output()
    .split('\n')
    .filter((line) => line.includes('"audit"'))
    .map((line) => JSON.parse(line) as { audit: { event: string; actor: { subject: string; role?: string; ip: string }; user_id?: string; from?: string; to?: string; email?: string } });

describe('the audit trail of sign-in', () => {
  it('has one line with the actor for each creation, sign-in, failure, refresh reuse, role change and deletion, and no secret', async () => {
    const superUser = await tokenFor('super_user', { sub: 'root-operator' });
    const email = `${uniqueId('audited')}@example.com`.toLowerCase();
    const password = `Umbrella-${uniqueId('pw')}-Quartz`;
    const created = await post('/users', { name: 'Audited', email, password, role: 'admin' }, superUser);
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { data: { id: string } }).data.id;
    expect((await post('/auth/login', { email, password: 'wrong-password-entirely' })).status).toBe(401);
    const login = await post('/auth/login', { email, password });
    expect(login.status).toBe(200);
    const { refresh_token: refreshToken } = ((await login.json()) as { data: { refresh_token: string } }).data;
    expect((await post('/auth/refresh', { refresh_token: refreshToken })).status).toBe(200);
    expect((await post('/auth/refresh', { refresh_token: refreshToken })).status).toBe(401);
    const demoted = await fetch(`${api}/users/${id}`, { method: 'PUT', headers: { authorization: `Bearer ${superUser}`, 'content-type': 'application/json' }, body: '{"role":"manager"}' });
    expect(demoted.status).toBe(200);
    expect((await fetch(`${api}/users/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${superUser}` } })).status).toBe(204);

    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = auditLines().filter((line) => line.audit.user_id === id || line.audit.actor.subject === id || line.audit.email !== undefined);
    expect(events.map((line) => line.audit.event)).toEqual(['user_created', 'sign_in_failed', 'signed_in', 'refresh_reused', 'role_changed', 'user_deleted']);
    const [createdBy, failed, signedIn, reused, roleChanged, deleted] = events.map((line) => line.audit);
    expect(createdBy!.actor).toMatchObject({ subject: 'root-operator', role: 'super_user' });
    expect(failed!.actor.subject).toBe('anonymous');
    expect(failed!.email).toBe(`${email[0]}***@example.com`);
    expect(signedIn!.actor).toMatchObject({ subject: id, role: 'admin' });
    expect(reused!.actor.subject).toBe(id);
    expect(roleChanged).toMatchObject({ actor: { subject: 'root-operator' }, from: 'admin', to: 'manager' });
    expect(deleted!.actor.subject).toBe('root-operator');
    const output = gateway.output();
    expect(output).not.toContain(password);
    expect(output).not.toContain(refreshToken);
  }, 60_000);
});
