import { randomUUID } from 'node:crypto';
import { ObjectId, type Collection, type Db, type Filter } from 'mongodb';
import { normalizeEmail } from '@trackme/contracts';
import { withUniqueConflict } from '@trackme/platform';
import type { Role } from '../auth/roles.js';
import type { User } from './schemas.js';

/**
 * A user as stored in `users`, in the older service's shape (`password` holds the hash) plus
 * `email_normalized`, which the unique index keys on. Users the older service wrote have an
 * ObjectId `_id`; trackme's are UUID strings.
 */
export interface StoredUser {
  _id: string | ObjectId;
  name: string;
  email: string;
  email_normalized: string;
  password: string;
  role: Role;
  created_at: Date;
  updated_at: Date;
}

export const idOf = (user: Pick<StoredUser, '_id'>): string => (typeof user._id === 'string' ? user._id : user._id.toHexString());

export function toUser(doc: StoredUser): User {
  return { id: idOf(doc), name: doc.name, email: doc.email, role: doc.role, created_at: doc.created_at.toISOString(), updated_at: doc.updated_at.toISOString() };
}

const emailTaken = () => ({ message: 'a user with this email already exists', code: 'email_taken' });

/** The `users` collection; the gateway is its only writer. */
export class UserStore {
  readonly users: Collection<StoredUser>;

  constructor(db: Db) {
    this.users = db.collection<StoredUser>('users');
  }

  /** By id: a UUID, or the hex of an older service's ObjectId. */
  private byId(id: string): Filter<StoredUser> {
    return ObjectId.isValid(id) && /^[0-9a-f]{24}$/i.test(id) ? { _id: { $in: [id, new ObjectId(id)] } } : { _id: id };
  }

  async create(fields: { name: string; email: string; passwordHash: string; role: Role }, now: Date): Promise<StoredUser> {
    const doc: StoredUser = {
      _id: randomUUID(),
      name: fields.name.trim(),
      email: fields.email.trim(),
      email_normalized: normalizeEmail(fields.email),
      password: fields.passwordHash,
      role: fields.role,
      created_at: now,
      updated_at: now,
    };
    await withUniqueConflict(() => this.users.insertOne(doc), emailTaken);
    return doc;
  }

  findById(id: string): Promise<StoredUser | null> {
    return this.users.findOne(this.byId(id));
  }

  findByEmail(email: string): Promise<StoredUser | null> {
    return this.users.findOne({ email_normalized: normalizeEmail(email) });
  }

  async list(limit: number, offset: number): Promise<{ users: StoredUser[]; total: number }> {
    const [users, total] = await Promise.all([
      this.users.find({}).sort({ created_at: 1, _id: 1 }).skip(offset).limit(limit).toArray(),
      this.users.countDocuments({}),
    ]);
    return { users, total };
  }

  countByRole(role: Role): Promise<number> {
    return this.users.countDocuments({ role });
  }

  /** The changed user, or null when there is none with this id. */
  async update(id: string, changes: Partial<Pick<StoredUser, 'name' | 'email' | 'password' | 'role'>>, now: Date): Promise<StoredUser | null> {
    const set: Partial<StoredUser> = { ...changes, updated_at: now };
    if (changes.email !== undefined) set.email_normalized = normalizeEmail(changes.email);
    return withUniqueConflict(() => this.users.findOneAndUpdate(this.byId(id), { $set: set }, { returnDocument: 'after' }), emailTaken);
  }

  /** Replaces the hash only if it is still the one that was checked (a concurrent change wins). */
  async replaceHash(user: StoredUser, passwordHash: string): Promise<void> {
    await this.users.updateOne({ _id: user._id, password: user.password } as Filter<StoredUser>, { $set: { password: passwordHash } });
  }

  async delete(id: string): Promise<StoredUser | null> {
    return this.users.findOneAndDelete(this.byId(id));
  }
}
