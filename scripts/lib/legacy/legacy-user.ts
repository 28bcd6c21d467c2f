/**
 * A user document of the older service (collection `users`: `_id, name, email, password, role,
 * created_at, updated_at`, the password a bcrypt hash) as trackme stores it. The hash is kept:
 * trackme verifies bcrypt and rehashes to argon2id at the next successful sign-in.
 */
import { ObjectId } from 'mongodb';
import { EmailSchema, normalizeEmail } from '@trackme/contracts';
import { Value } from 'typebox/value';
import { isRole } from '../../../services/gateway/src/auth/roles.js';
import type { StoredUser } from '../../../services/gateway/src/users/user-store.js';
import { legacyDate, legacyId } from './legacy-values.js';

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export type LegacyUserOutcome = { ok: true; legacyId: string; user: StoredUser } | { ok: false; legacyId: string; reason: string };

/** Reads one older user document; `ok: false` says why it cannot be taken. */
export function fromLegacyUser(doc: Record<string, unknown>, now: Date): LegacyUserOutcome {
  const legacy = legacyId(doc['_id']) ?? '';
  const refuse = (reason: string): LegacyUserOutcome => ({ ok: false, legacyId: legacy, reason });
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(legacy)) return refuse(`_id: ${JSON.stringify(legacy)} is not a usable user id`);
  const email = typeof doc['email'] === 'string' ? doc['email'].trim() : '';
  if (!Value.Check(EmailSchema, email)) return refuse(`email: ${JSON.stringify(email)} is not an email address`);
  const name = typeof doc['name'] === 'string' ? doc['name'].trim() : '';
  if (name === '' || name.length > 200) return refuse('name: missing or longer than 200 characters');
  if (!isRole(doc['role'])) return refuse(`role: ${JSON.stringify(doc['role'] ?? null)} is not super_user, admin or manager`);
  if (typeof doc['password'] !== 'string' || !BCRYPT.test(doc['password'])) return refuse('password: not a bcrypt hash');
  const created = legacyDate(doc['created_at']);
  const updated = legacyDate(doc['updated_at']) ?? created;
  return {
    ok: true,
    legacyId: legacy,
    user: {
      // the older ids were ObjectIds; kept as they were, so tokens and links that name them still match
      _id: doc['_id'] instanceof ObjectId ? doc['_id'] : legacy,
      name,
      email,
      email_normalized: normalizeEmail(email),
      password: doc['password'],
      role: doc['role'],
      created_at: created ? new Date(created) : now,
      updated_at: updated ? new Date(updated) : now,
    },
  };
}
