import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@trackme/platform';
import type { Role } from '../auth/roles.js';
import { hashPassword } from './password-hasher.js';
import { passwordProblems } from './password-policy.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { CreateUserBody, UpdateUserBody } from './schemas.js';
import { idOf, type StoredUser, type UserStore } from './user-store.js';

const RANK: Record<Role, number> = { manager: 1, admin: 2, super_user: 3 };

/** A caller may give a role up to its own: an admin cannot make a super_user. */
export function mayGrant(caller: Role | undefined, role: Role): boolean {
  return caller !== undefined && RANK[caller] >= RANK[role];
}

function assertPassword(password: string, context: { email?: string; name?: string }): void {
  const problems = passwordProblems(password, context);
  if (problems.length > 0) throw new ValidationError(`password ${problems[0]!.message}`, problems);
}

/** What a change did, for the audit lines the route writes. */
export interface UserChange {
  user: StoredUser;
  roleFrom?: Role;
  passwordChanged: boolean;
}

/** Creating, changing and deleting users, with the rules on roles and passwords. */
export class UserAdmin {
  constructor(
    private readonly users: UserStore,
    private readonly refresh: RefreshTokens,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A new user; `grantor` is the role of whoever creates it (undefined: self-registration, managers only). */
  async create(body: CreateUserBody, grantor: Role | 'self'): Promise<StoredUser> {
    const role = body.role ?? 'manager';
    if (grantor === 'self' ? role !== 'manager' : !mayGrant(grantor, role)) {
      throw new ForbiddenError(grantor === 'self' ? 'self-registration creates managers only' : `role ${grantor} may not create a ${role}`);
    }
    assertPassword(body.password, body);
    return this.users.create({ name: body.name, email: body.email, passwordHash: await hashPassword(body.password), role }, this.now());
  }

  async update(id: string, body: UpdateUserBody): Promise<UserChange> {
    const before = await this.users.findById(id);
    if (!before) throw new NotFoundError(`no user ${id}`);
    if (body.role !== undefined && body.role !== 'super_user' && before.role === 'super_user') await this.assertNotLastSuperUser();
    if (body.password !== undefined) assertPassword(body.password, { email: body.email ?? before.email, name: body.name ?? before.name });
    const { password, ...rest } = body;
    const after = await this.users.update(id, { ...rest, ...(password !== undefined ? { password: await hashPassword(password) } : {}) }, this.now());
    if (!after) throw new NotFoundError(`no user ${id}`);
    const roleChanged = after.role !== before.role;
    // a new role or password signs the user out everywhere at once; access tokens end within 15 minutes
    if (roleChanged || password !== undefined) await this.refresh.revokeAllOf(idOf(after), this.now());
    return { user: after, ...(roleChanged ? { roleFrom: before.role } : {}), passwordChanged: password !== undefined };
  }

  async delete(id: string): Promise<StoredUser> {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundError(`no user ${id}`);
    if (user.role === 'super_user') await this.assertNotLastSuperUser();
    const deleted = await this.users.delete(id);
    if (!deleted) throw new NotFoundError(`no user ${id}`);
    await this.refresh.revokeAllOf(idOf(deleted), this.now());
    return deleted;
  }

  /** Nobody could manage users any more (only `npm run users` could make one again). */
  private async assertNotLastSuperUser(): Promise<void> {
    if ((await this.users.countByRole('super_user')) <= 1) throw new ConflictError('the last super_user cannot be deleted or demoted', 'last_super_user');
  }
}
