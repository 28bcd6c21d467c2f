/**
 * The older service's roles, with its bugs fixed: every role reads (users included) and may trigger
 * a metrics calculation (managers could in the older service); admins also write and create users;
 * super users may do everything, and only they change or delete users.
 */
export const ROLES = ['super_user', 'admin', 'manager'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'write', 'metrics', 'manage users'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  super_user: new Set(PERMISSIONS),
  admin: new Set<Permission>(['read', 'write', 'metrics']),
  manager: new Set<Permission>(['read', 'metrics']),
};

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

export function may(role: Role | undefined, permission: Permission): boolean {
  return role !== undefined && GRANTS[role].has(permission);
}
