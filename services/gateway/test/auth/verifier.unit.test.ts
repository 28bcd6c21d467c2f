import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { InvalidTokenError, TokenVerifier } from '../../src/auth/verifier.js';

const SECRET = 'a-development-secret-of-at-least-32-bytes!';
const ISSUER = 'trackme';
const AUDIENCE = 'trackme-api';
const now = () => Math.floor(Date.now() / 1000);

let jwks: Server;
let jwksUrl: string;
const keys: Record<'RS256' | 'ES256' | 'EdDSA', { privateKey: CryptoKey; publicKey: CryptoKey; kid: string }> = {} as never;

beforeAll(async () => {
  const published: JWK[] = [];
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    const pair = await generateKeyPair(alg, { extractable: true });
    keys[alg] = { ...pair, kid: `k-${alg}` };
    published.push({ ...(await exportJWK(pair.publicKey)), kid: `k-${alg}`, alg, use: 'sig' });
  }
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
});

afterAll(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

function claims(overrides: Record<string, unknown> = {}) {
  return { sub: 'ann', role: 'admin', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 900, ...overrides };
}

async function hs256(payload = claims(), secret = SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

async function signed(alg: keyof typeof keys, payload = claims()): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, kid: keys[alg].kid }).sign(keys[alg].privateKey);
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(verifier: TokenVerifier, token: string): Promise<string> {
  const error = await verifier.verify(token).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as Error).message;
}

describe('TokenVerifier', () => {
  const both = () => new TokenVerifier({ secret: SECRET, jwksUrl, issuer: ISSUER, audience: AUDIENCE });

  it('accepts HS256 with the secret and each asymmetric algorithm with the JWKS keys', async () => {
    expect(await both().verify(await hs256())).toEqual({ subject: 'ann', role: 'admin' });
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      expect(await both().verify(await signed(alg, claims({ role: 'manager' })))).toEqual({ subject: 'ann', role: 'manager' });
    }
  });

  it('refuses expired and not-yet-valid tokens, with 30 s of leeway', async () => {
    expect(await refusal(both(), await hs256(claims({ exp: now() - 60 })))).toBe('token expired');
    expect(await both().verify(await hs256(claims({ exp: now() - 10 })))).toMatchObject({ subject: 'ann' });
    expect(await refusal(both(), await hs256(claims({ nbf: now() + 120 })))).toBe('token not yet valid');
    expect(await both().verify(await hs256(claims({ nbf: now() + 10 })))).toMatchObject({ subject: 'ann' });
  });

  it('refuses another issuer or audience, and tokens without exp or sub', async () => {
    expect(await refusal(both(), await hs256(claims({ iss: 'someone-else' })))).toBe('claim iss is not accepted');
    expect(await refusal(both(), await hs256(claims({ aud: 'another-api' })))).toBe('claim aud is not accepted');
    expect(await refusal(both(), await hs256(claims({ exp: undefined })))).toBe('claim exp is not accepted');
    expect(await refusal(both(), await hs256(claims({ sub: undefined })))).toBe('claim sub is not accepted');
  });

  it('refuses alg none, unknown algorithms, malformed tokens and wrong keys', async () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    expect(await refusal(both(), none)).toBe('algorithm is not accepted');
    const hs512 = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET.repeat(2)));
    expect(await refusal(both(), hs512)).toBe('algorithm is not accepted');
    expect(await refusal(both(), 'not-a-token')).toBe('malformed token');
    expect(await refusal(both(), await hs256(claims(), 'another-secret-that-is-also-32-bytes-long'))).toBe('signature does not verify');
    const stranger = await generateKeyPair('RS256');
    const foreign = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: keys.RS256.kid }).sign(stranger.privateKey);
    expect(await refusal(both(), foreign)).toBe('signature does not verify');
  });

  it('cannot be fooled into verifying an HS256 token with the public RSA key (key confusion)', async () => {
    const publicPem = await exportSPKI(keys.RS256.publicKey);
    const confused = await hs256(claims(), publicPem);
    // with only JWKS keys configured, HS256 is not an accepted algorithm at all
    expect(await refusal(new TokenVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE }), confused)).toBe('algorithm is not accepted');
    // with both, HS256 is checked against the secret only
    expect(await refusal(both(), confused)).toBe('signature does not verify');
  });

  it('remembers a verified token only until it expires (with the leeway), and never a refused one', async () => {
    let clock = Date.now();
    const verifier = new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, now: () => clock });
    const token = await hs256(claims({ exp: Math.floor(clock / 1000) + 5 }));
    expect(await verifier.verify(token)).toEqual({ subject: 'ann', role: 'admin' });
    clock += 34_000;
    expect(await verifier.verify(token)).toEqual({ subject: 'ann', role: 'admin' });
    clock += 2_000;
    expect(await refusal(verifier, token)).toBe('token expired');
    // a token that is not yet valid is refused, and accepted once it is
    const early = await hs256(claims({ nbf: Math.floor(clock / 1000) + 60 }));
    expect(await refusal(verifier, early)).toBe('token not yet valid');
    clock += 31_000;
    expect(await verifier.verify(early)).toMatchObject({ subject: 'ann' });
  });

  it('gives a valid token without a known role no role (403 on every route)', async () => {
    expect(await both().verify(await hs256(claims({ role: 'root' })))).toEqual({ subject: 'ann', role: undefined });
    expect(await both().verify(await hs256(claims({ role: undefined })))).toEqual({ subject: 'ann', role: undefined });
  });
});
