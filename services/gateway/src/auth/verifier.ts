import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { DependencyUnavailableError } from '@trackme/platform';
import { isRole, type Role } from './roles.js';

/** A caller proven by a valid token. */
export interface Caller {
  subject: string;
  /** undefined when the token names no role this service knows (a 403 on every route) */
  role: Role | undefined;
}

/**
 * Why a token was refused. The message is one of a few fixed strings, never token content: it goes
 * into the caller's WWW-Authenticate, where a quote or a non-Latin-1 letter would break the header.
 */
export class InvalidTokenError extends Error {}

export interface VerifierOptions {
  /** HS256 key (at least 32 bytes) */
  secret?: string;
  /** JWKS of the RS256 / ES256 / EdDSA keys */
  jwksUrl?: string;
  /** the public keys of the gateway's own sign-in tokens, checked without fetching (by `kid`) */
  ownKeys?: JSONWebKeySet;
  issuer: string;
  audience: string;
  /** leeway for exp and nbf */
  clockToleranceSeconds?: number;
  /** the current time (tests move it) */
  now?: () => number;
}

const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'];

/** How long a verified token is taken on trust before its signature is checked again. */
const VERIFIED_FOR_MS = 60_000;
/** Verified tokens remembered; past this the oldest is forgotten first. */
const VERIFIED_MAX = 10_000;

/**
 * Verifies bearer tokens against an algorithm allow-list (RFC 8725): HS256 only with the shared
 * secret, RS256/ES256/EdDSA only with the JWKS keys, so a token can never pick its key type
 * (no HS/RS confusion) and `alg: none` or any other algorithm is refused before any key is used.
 * `exp` is required; `nbf`, `iss` and `aud` are checked with 30 s of leeway.
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly own: { keys: JWTVerifyGetKey; kids: ReadonlySet<string | undefined>; algs: ReadonlySet<string | undefined> } | undefined;
  private readonly now: () => number;
  /**
   * Tokens that verified, by their exact text, until they expire (with the leeway) or for at most
   * a minute. A caller sends the same token with every request, and checking its signature again
   * costs about 0.1 ms of CPU each time. Refused tokens are not remembered.
   */
  private readonly verified = new Map<string, { caller: Caller; until: number }>();

  constructor(private readonly options: VerifierOptions) {
    this.secret = options.secret ? new TextEncoder().encode(options.secret) : undefined;
    this.jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 2_000 }) : undefined;
    this.own = options.ownKeys
      ? { keys: createLocalJWKSet(options.ownKeys), kids: new Set(options.ownKeys.keys.map((k) => k.kid)), algs: new Set(options.ownKeys.keys.map((k) => k.alg)) }
      : undefined;
    this.now = options.now ?? Date.now;
  }

  /** The gateway's own key for its own tokens (by `kid`), the JWKS_URL keys for the others. */
  private readonly asymmetricKey: JWTVerifyGetKey = (header, token) =>
    this.own && (this.own.kids.has(header.kid) || !this.jwks) ? this.own.keys(header, token) : this.jwks!(header, token);

  async verify(token: string): Promise<Caller> {
    const now = this.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return known.caller;
    if (known) this.verified.delete(token);
    const { caller, expiresAt } = await this.check(token, now);
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { caller, until: Math.min(now + VERIFIED_FOR_MS, expiresAt) });
    return caller;
  }

  /** The signature and claims, checked; `expiresAt` is the last instant (ms) the token is accepted. */
  private async check(token: string, now: number): Promise<{ caller: Caller; expiresAt: number }> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new InvalidTokenError('malformed token');
    }
    const tolerance = this.options.clockToleranceSeconds ?? 30;
    const checks = {
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: tolerance,
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(now),
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && this.secret) payload = (await jwtVerify(token, this.secret, { ...checks, algorithms: ['HS256'] })).payload;
      else if (alg !== undefined && ASYMMETRIC.includes(alg) && (this.jwks || this.own?.algs.has(alg))) payload = (await jwtVerify(token, this.asymmetricKey, { ...checks, algorithms: ASYMMETRIC })).payload;
      else throw new InvalidTokenError(alg === undefined ? 'algorithm missing' : 'algorithm is not accepted');
    } catch (error) {
      // the key server being away is our problem, not a bad token
      if (error instanceof errors.JWKSTimeout || (error instanceof TypeError && /fetch/i.test(error.message))) {
        throw new DependencyUnavailableError('the signing keys cannot be fetched; retry later');
      }
      throw new InvalidTokenError(reasonOf(error));
    }
    return {
      caller: { subject: String(payload.sub), role: isRole(payload['role']) ? payload['role'] : undefined },
      expiresAt: (payload.exp! + tolerance) * 1000,
    };
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
