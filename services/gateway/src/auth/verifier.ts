import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { DependencyUnavailableError } from '@trackme/platform';
import { isRole, type Role } from './roles.js';

/** A caller proven by a valid token. */
export interface Caller {
  subject: string;
  /** undefined when the token names no role this service knows (a 403 on every route) */
  role: Role | undefined;
}

/** Why a token was refused; the message goes to the caller's WWW-Authenticate (it leaks nothing). */
export class InvalidTokenError extends Error {}

export interface VerifierOptions {
  /** HS256 key (at least 32 bytes) */
  secret?: string;
  /** JWKS of the RS256 / ES256 / EdDSA keys */
  jwksUrl?: string;
  issuer: string;
  audience: string;
  /** leeway for exp and nbf */
  clockToleranceSeconds?: number;
}

const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'];

/**
 * Verifies bearer tokens against an algorithm allow-list (RFC 8725): HS256 only with the shared
 * secret, RS256/ES256/EdDSA only with the JWKS keys, so a token can never pick its key type
 * (no HS/RS confusion) and `alg: none` or any other algorithm is refused before any key is used.
 * `exp` is required; `nbf`, `iss` and `aud` are checked with 30 s of leeway.
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(private readonly options: VerifierOptions) {
    this.secret = options.secret ? new TextEncoder().encode(options.secret) : undefined;
    this.jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 2_000 }) : undefined;
  }

  async verify(token: string): Promise<Caller> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new InvalidTokenError('malformed token');
    }
    const checks = {
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.options.clockToleranceSeconds ?? 30,
      requiredClaims: ['exp', 'sub'],
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && this.secret) payload = (await jwtVerify(token, this.secret, { ...checks, algorithms: ['HS256'] })).payload;
      else if (alg !== undefined && ASYMMETRIC.includes(alg) && this.jwks) payload = (await jwtVerify(token, this.jwks, { ...checks, algorithms: ASYMMETRIC })).payload;
      else throw new InvalidTokenError(`algorithm ${alg ?? 'missing'} is not accepted`);
    } catch (error) {
      // the key server being away is our problem, not a bad token
      if (error instanceof errors.JWKSTimeout || (error instanceof TypeError && /fetch/i.test(error.message))) {
        throw new DependencyUnavailableError('the signing keys cannot be fetched; retry later');
      }
      throw new InvalidTokenError(reasonOf(error));
    }
    return { subject: String(payload.sub), role: isRole(payload['role']) ? payload['role'] : undefined };
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof InvalidTokenError) return error.message;
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'token not yet valid';
    return `claim ${error.claim} is not accepted`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm is not accepted';
  return 'invalid token';
}
