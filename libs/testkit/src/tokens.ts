import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

/** The HS256 key every test environment's gateway verifies tokens with (isolatedEnv sets JWT_SECRET). */
export const TEST_JWT_SECRET = 'trackme-tests-only-secret-0123456789abcdef';

/** The gateway's sign-in key in every test environment (isolatedEnv sets AUTH_SIGNING_KEY): a fresh Ed25519 key per test process. */
export const TEST_SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** The service token of every test environment's internal APIs (isolatedEnv sets INTERNAL_TOKEN). */
export const TEST_INTERNAL_TOKEN = 'trackme-tests-only-internal-token-0123456789';

/** Headers of the gateway calling an internal API of read or metrics. */
export const internalHeaders = (headers: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${TEST_INTERNAL_TOKEN}`, ...headers });

export type TestRole = 'super_user' | 'admin' | 'manager';

/** A bearer token as the configured issuer would mint it; override claims to make a bad one. */
export async function tokenFor(role: TestRole | string = 'admin', claims: Record<string, unknown> = {}, secret = TEST_JWT_SECRET): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: `test-${role}`, role, iss: 'trackme', aud: 'trackme-api', iat: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

let adminToken: Promise<string> | undefined;

/** Request headers of an admin, for tests about something else than authorization. */
export async function adminHeaders(headers: Record<string, string> = {}): Promise<Record<string, string>> {
  adminToken ??= tokenFor('admin');
  return { authorization: `Bearer ${await adminToken}`, ...headers };
}

/** app.inject options with an admin's token added (its own headers win). */
export async function authed<T extends object>(options: T): Promise<T & { headers: Record<string, string> }> {
  const own = (options as { headers?: Record<string, string> }).headers ?? {};
  return { ...options, headers: await adminHeaders(own) };
}
