import { normalizeEmail } from '@trackme/contracts';
import { UnauthorizedError } from '@trackme/platform';
import type { LoginThrottle } from './login-throttle.js';
import { dummyHash, hashPassword, needsRehash, passwordMatches } from './password-hasher.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { Session } from './schemas.js';
import { ACCESS_TOKEN_TTL_SECONDS, type TokenIssuer } from './token-issuer.js';
import { idOf, type StoredUser, type UserStore } from './user-store.js';

/** Not a bearer-token problem, but a 401 must still name a scheme (RFC 9110). */
const CHALLENGE = 'Bearer realm="trackme"';
export const BAD_CREDENTIALS = 'invalid email or password';

export interface SignInDeps {
  users: UserStore;
  refresh: RefreshTokens;
  issuer: TokenIssuer;
  throttle: LoginThrottle;
  now?: () => Date;
}

/** What happened, for the audit line the route writes. */
export type SignInOutcome =
  | { outcome: 'signed_in'; session: Session; userId: string; rehashed: boolean }
  | { outcome: 'failed'; reason: 'unknown_email' | 'wrong_password' };

export type RefreshOutcome =
  | { outcome: 'rotated'; session: Session; userId: string }
  | { outcome: 'reused'; userId: string; familyId: string }
  | { outcome: 'refused'; reason: 'invalid' | 'user_gone' | 'role_changed' };

/** Sign-in, refresh and sign-out: the only places that hand out tokens. */
export class SignIn {
  private readonly now: () => Date;

  constructor(private readonly deps: SignInDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Access and refresh tokens for `user`; a refresh inside `familyId` keeps the login's family. */
  async sessionFor(user: StoredUser, familyId?: string): Promise<Session> {
    const now = this.now();
    const id = idOf(user);
    const [token, refreshToken] = await Promise.all([
      this.deps.issuer.sign({ userId: id, email: user.email, role: user.role }, now),
      this.deps.refresh.issue({ id, role: user.role }, now, familyId),
    ]);
    return {
      token,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
      refresh_token: refreshToken,
      user: { id, name: user.name, email: user.email, role: user.role },
    };
  }

  /**
   * An unknown email and a wrong password answer alike and cost alike: the password is always
   * checked against a hash, a stand-in one for an unknown email. Throttled per account and address.
   */
  async login(email: string, password: string, address: string): Promise<SignInOutcome> {
    const { users, throttle } = this.deps;
    const account = normalizeEmail(email);
    await throttle.check(address, account);
    const user = await users.findByEmail(email);
    const matches = await passwordMatches(user?.password ?? (await dummyHash()), password);
    if (!user || !matches) {
      await throttle.fail(address, account);
      return { outcome: 'failed', reason: user ? 'wrong_password' : 'unknown_email' };
    }
    await throttle.succeed(account);
    // bcrypt hashes of the older service (and argon2id at an older cost) become today's hash
    const rehashed = needsRehash(user.password);
    if (rehashed) await users.replaceHash(user, await hashPassword(password));
    // housekeeping, off the answer's path: a delete costs FerretDB about 90 ms, more than the
    // argon2id check; one that fails is retried at the next login
    void this.deps.refresh.dropExpired(idOf(user), this.now()).catch(() => undefined);
    return { outcome: 'signed_in', session: await this.sessionFor(user), userId: idOf(user), rehashed };
  }

  /** Rotates a refresh token. A refused one counts as a failure of the address. */
  async refresh(token: string, address: string): Promise<RefreshOutcome> {
    const { refresh, users, throttle } = this.deps;
    await throttle.check(address);
    const now = this.now();
    const redeemed = await refresh.redeem(token, now);
    if (redeemed.outcome !== 'rotated') {
      await throttle.fail(address);
      if (redeemed.outcome === 'reused') return { outcome: 'reused', userId: redeemed.token.user_id, familyId: redeemed.token.family_id };
      return { outcome: 'refused', reason: 'invalid' };
    }
    const stored = redeemed.token;
    const user = await users.findById(stored.user_id);
    // deletions and role changes revoke tokens at once; this covers a change racing this refresh
    if (!user || user.role !== stored.role) {
      await refresh.revokeFamily(stored.family_id, now);
      return { outcome: 'refused', reason: user ? 'role_changed' : 'user_gone' };
    }
    return { outcome: 'rotated', session: await this.sessionFor(user, stored.family_id), userId: idOf(user) };
  }

  /** Ends the login the token belongs to (its whole family); unknown tokens are ignored. */
  async logout(token: string): Promise<string | undefined> {
    const family = await this.deps.refresh.familyOf(token);
    if (family) await this.deps.refresh.revokeFamily(family, this.now());
    return family;
  }
}

export const badCredentials = () => new UnauthorizedError(BAD_CREDENTIALS, CHALLENGE);
export const badRefreshToken = () => new UnauthorizedError('invalid refresh token', CHALLENGE);
