import { Type, type Static } from 'typebox';
import { EmailSchema } from '@trackme/contracts';
import { ROLES } from '../auth/roles.js';
import { PASSWORD_MAX_BYTES } from './password-policy.js';

export const RoleSchema = Type.Union(
  [Type.Literal(ROLES[0]), Type.Literal(ROLES[1]), Type.Literal(ROLES[2])],
  { description: 'super_user: everything; admin: reads, writes, metrics and users up to admin; manager: reads' },
);
const NameSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
/**
 * Bounded in characters here (the byte bound, PASSWORD_MAX_BYTES, is checked before hashing), so a
 * huge password is refused by validation, never hashed.
 */
const PasswordSchema = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_BYTES, description: `At least 12 characters, at most ${PASSWORD_MAX_BYTES} bytes, not a common password` });

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    email: Type.String(),
    role: RoleSchema,
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);
export type User = Static<typeof UserSchema>;

export const UserIdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'User id' });

export const CreateUserBodySchema = Type.Object(
  { name: NameSchema, email: EmailSchema, password: PasswordSchema, role: Type.Optional(RoleSchema) },
  { additionalProperties: false, $id: 'CreateUserBody', description: 'role defaults to manager' },
);
export type CreateUserBody = Static<typeof CreateUserBodySchema>;

export const UpdateUserBodySchema = Type.Object(
  { name: Type.Optional(NameSchema), email: Type.Optional(EmailSchema), password: Type.Optional(PasswordSchema), role: Type.Optional(RoleSchema) },
  { additionalProperties: false, minProperties: 1, $id: 'UpdateUserBody', description: 'The fields to change; a new password or role signs the user out everywhere' },
);
export type UpdateUserBody = Static<typeof UpdateUserBodySchema>;

export const LoginBodySchema = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: PasswordSchema },
  { additionalProperties: false, $id: 'LoginBody' },
);

export const RefreshBodySchema = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) },
  { additionalProperties: false, $id: 'RefreshBody' },
);

export const SessionSchema = Type.Object(
  {
    data: Type.Object({
      token: Type.String({ description: 'Access token (JWT, EdDSA/ES256) for `Authorization: Bearer`; valid 15 minutes' }),
      token_type: Type.Literal('Bearer'),
      expires_in: Type.Integer({ description: 'Seconds the access token is valid' }),
      refresh_token: Type.String({ description: 'Opaque; exchange it once at POST /auth/refresh for new tokens' }),
      user: Type.Object({ id: Type.String(), name: Type.String(), email: Type.String(), role: RoleSchema }),
    }),
  },
  { $id: 'Session' },
);
export type Session = Static<typeof SessionSchema>['data'];
