import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Role } from '../auth/roles.js';

/**
 * A refresh token as stored in `refresh_tokens`: only its SHA-256 (the token has 256 random bits,
 * so a fast hash is enough), the family it was rotated from since the login, and what happened
 * to it. `used_at` and `revoked_at` are null until then.
 */
export interface StoredRefreshToken {
  _id: string;
  family_id: string;
  user_id: string;
  /** the user's role when it was issued: a role changed since makes it fail */
  role: Role;
  issued_at: Date;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

export type Redeemed =
  | { outcome: 'rotated'; token: StoredRefreshToken }
  /** used before: someone replays it, so its whole family was revoked */
  | { outcome: 'reused'; token: StoredRefreshToken }
  | { outcome: 'invalid' };

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Opaque refresh tokens, rotated on every use, with reuse detection by family (OAuth 2.0 Security BCP §4.14). */
export class RefreshTokens {
  readonly tokens: Collection<StoredRefreshToken>;

  constructor(
    db: Db,
    private readonly ttlMs: number,
  ) {
    this.tokens = db.collection<StoredRefreshToken>('refresh_tokens');
  }

  /** A new token for `user`, in `familyId` (a new family at login). */
  async issue(user: { id: string; role: Role }, now: Date, familyId: string = randomUUID()): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.tokens.insertOne({
      _id: digest(token),
      family_id: familyId,
      user_id: user.id,
      role: user.role,
      issued_at: now,
      expires_at: new Date(now.getTime() + this.ttlMs),
      used_at: null,
      revoked_at: null,
    });
    return token;
  }

  /**
   * Marks the token used, atomically: of two requests with the same token, one rotates and the
   * other is a reuse. A token used before revokes its family, so a stolen token and the one its
   * owner holds both stop working.
   */
  async redeem(token: string, now: Date): Promise<Redeemed> {
    const id = digest(token);
    const claimed = await this.tokens.findOneAndUpdate(
      { _id: id, used_at: null, revoked_at: null, expires_at: { $gt: now } },
      { $set: { used_at: now } },
      { returnDocument: 'after' },
    );
    if (claimed) return { outcome: 'rotated', token: claimed };
    const known = await this.tokens.findOne({ _id: id });
    if (!known || known.used_at === null) return { outcome: 'invalid' };
    await this.revokeFamily(known.family_id, now);
    return { outcome: 'reused', token: known };
  }

  async revokeFamily(familyId: string, now: Date): Promise<void> {
    await this.tokens.updateMany({ family_id: familyId, revoked_at: null }, { $set: { revoked_at: now } });
  }

  /** Signs a user out everywhere: after a deletion, a role or password change. */
  async revokeAllOf(userId: string, now: Date): Promise<void> {
    await this.tokens.updateMany({ user_id: userId, revoked_at: null }, { $set: { revoked_at: now } });
  }

  /** The family of `token`, when it is one of ours. */
  async familyOf(token: string): Promise<string | undefined> {
    return (await this.tokens.findOne({ _id: digest(token) }, { projection: { family_id: 1 } }))?.family_id;
  }

  /** Drops a user's expired tokens (the Mongo-wire floor has no TTL index); called at each login. */
  async dropExpired(userId: string, now: Date): Promise<void> {
    await this.tokens.deleteMany({ user_id: userId, expires_at: { $lte: now } });
  }
}
