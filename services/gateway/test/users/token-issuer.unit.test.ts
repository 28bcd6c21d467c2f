import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { TokenVerifier } from '../../src/auth/verifier.js';
import { parseSigningKey, TokenIssuer } from '../../src/users/token-issuer.js';

const AUDIENCE = { issuer: 'trackme', audience: 'trackme-api' };
const pem = (type: 'ed25519' | 'ec') =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const claims = { userId: 'u-1', email: 'ann@example.com', role: 'admin' as const };
const now = new Date();

describe('access tokens', () => {
  it("carry the older service's user_id, email and role, plus sub, iss, aud, iat and a 15-minute exp", async () => {
    const issuer = await TokenIssuer.create(pem('ed25519'), AUDIENCE);
    const token = await issuer.sign(claims, now);
    const iat = Math.floor(now.getTime() / 1000);
    expect(decodeJwt(token)).toEqual({ user_id: 'u-1', email: 'ann@example.com', role: 'admin', sub: 'u-1', iss: 'trackme', aud: 'trackme-api', iat, exp: iat + 900 });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: issuer.kid, typ: 'JWT' });
    await expect(jwtVerify(token, createLocalJWKSet(issuer.jwks))).resolves.toBeDefined();
  });

  it('are ES256 with a P-256 key, from a PEM with escaped line breaks or a JWK', async () => {
    const key = pem('ec');
    const fromEscaped = await TokenIssuer.create(key.replaceAll('\n', '\\n'), AUDIENCE);
    expect(fromEscaped.alg).toBe('ES256');
    const jwk = JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
    expect((await TokenIssuer.create(jwk, AUDIENCE)).alg).toBe('EdDSA');
  });

  it('publish only the public half of the key', async () => {
    const issuer = await TokenIssuer.create(pem('ed25519'), AUDIENCE);
    expect(issuer.jwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: issuer.kid, alg: 'EdDSA', use: 'sig' }]);
  });

  it('refuse keys that are not Ed25519 or P-256 private keys', () => {
    expect(() => parseSigningKey('not a key')).toThrow('must be a PKCS#8 PEM or a JWK of an Ed25519 or P-256 private key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseSigningKey(rsa)).toThrow('is a rsa key; use Ed25519 (EdDSA) or P-256 (ES256)');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseSigningKey(p384)).toThrow('use Ed25519 (EdDSA) or P-256 (ES256)');
  });

  it('are accepted by the verifier that knows the key, beside HS256 tokens, and refused when another key signed them', async () => {
    const issuer = await TokenIssuer.create(pem('ed25519'), AUDIENCE);
    const verifier = new TokenVerifier({ ...AUDIENCE, secret: 'a-development-secret-of-at-least-32-bytes!', ownKeys: issuer.jwks });
    await expect(verifier.verify(await issuer.sign(claims, now))).resolves.toEqual({ subject: 'u-1', role: 'admin' });
    // an attacker's own Ed25519 key, claiming the gateway's kid
    const forger = await TokenIssuer.create(pem('ed25519'), AUDIENCE);
    const forged = await forger.sign({ ...claims, role: 'super_user' as never }, now);
    const [, payload, signature] = forged.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: issuer.kid, typ: 'JWT' })).toString('base64url');
    await expect(verifier.verify(`${header}.${payload}.${signature}`)).rejects.toThrow('signature does not verify');
    await expect(verifier.verify(forged)).rejects.toThrow('no key matches the token');
  });

  it('stop being accepted 15 minutes after they were issued (30 s of leeway)', async () => {
    const issuer = await TokenIssuer.create(pem('ed25519'), AUDIENCE);
    const token = await issuer.sign(claims, now);
    const at = (ms: number) => new TokenVerifier({ ...AUDIENCE, ownKeys: issuer.jwks, now: () => now.getTime() + ms });
    await expect(at(14 * 60_000).verify(token)).resolves.toEqual({ subject: 'u-1', role: 'admin' });
    await expect(at(16 * 60_000).verify(token)).rejects.toThrow('token expired');
  });

  it('of the gateway do not open the door to another algorithm: RS256 stays refused without a JWKS_URL', async () => {
    const issuer = await TokenIssuer.create(pem('ed25519'), AUDIENCE);
    const verifier = new TokenVerifier({ ...AUDIENCE, ownKeys: issuer.jwks });
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    await expect(verifier.verify(`${b64({ alg: 'RS256' })}.${b64({ sub: 'x', role: 'admin' })}.c2ln`)).rejects.toThrow('algorithm is not accepted');
  });
});
