import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import type { Role } from '../auth/roles.js';

/** Access tokens live 15 minutes: a deleted or demoted user keeps theirs at most that long. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export type SigningAlgorithm = 'EdDSA' | 'ES256';

/**
 * Reads AUTH_SIGNING_KEY: a PKCS#8 PEM (literal `\n` allowed, for one-line env files) or a JWK
 * (JSON) of an Ed25519 or P-256 private key. Throws a message for the config error otherwise.
 */
export function parseSigningKey(text: string): { key: KeyObject; alg: SigningAlgorithm } {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed) as JWK & { kty: string }, format: 'jwk' })
      : createPrivateKey(trimmed.replaceAll('\\n', '\n'));
  } catch {
    throw new Error('must be a PKCS#8 PEM or a JWK of an Ed25519 or P-256 private key');
  }
  if (key.asymmetricKeyType === 'ed25519') return { key, alg: 'EdDSA' };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256' };
  throw new Error(`is a ${key.asymmetricKeyType ?? 'symmetric'} key; use Ed25519 (EdDSA) or P-256 (ES256)`);
}

export interface AccessClaims {
  userId: string;
  email: string;
  role: Role;
}

/**
 * Signs the gateway's access tokens with its private key and publishes the public half as a JWKS.
 * Claims: the older service's `user_id`, `email` and `role`, plus `sub` (the user id), `iss`,
 * `aud`, `iat` and `exp`.
 */
export class TokenIssuer {
  private constructor(
    private readonly key: KeyObject,
    readonly alg: SigningAlgorithm,
    readonly kid: string,
    readonly jwks: JSONWebKeySet,
    private readonly audience: { issuer: string; audience: string },
  ) {}

  static async create(signingKey: string, audience: { issuer: string; audience: string }): Promise<TokenIssuer> {
    const { key, alg } = parseSigningKey(signingKey);
    const publicJwk = await exportJWK(createPublicKey(key));
    const kid = await calculateJwkThumbprint(publicJwk);
    return new TokenIssuer(key, alg, kid, { keys: [{ ...publicJwk, kid, alg, use: 'sig' }] }, audience);
  }

  async sign(claims: AccessClaims, now: Date): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ user_id: claims.userId, email: claims.email, role: claims.role })
      .setProtectedHeader({ alg: this.alg, kid: this.kid, typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(this.audience.issuer)
      .setAudience(this.audience.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ACCESS_TOKEN_TTL_SECONDS)
      .sign(this.key);
  }
}
