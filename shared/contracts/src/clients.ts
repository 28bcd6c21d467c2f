import { Type, type Static } from 'typebox';

/**
 * Client schemas shared by HTTP (request/response bodies, OpenAPI) and Kafka (command and event
 * payloads). Field names are the older service's, so its integrations keep working.
 */

const Text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', ...(description ? { description } : {}) });

export const ClientIdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Client id' });

export const AppStatusSchema = Type.Union([Type.Literal('installed'), Type.Literal('not_installed')], {
  description: 'Whether the client installed the mobile app',
});
export const AutopaymentSchema = Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]);

export const ContractSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^$.]+$', description: 'Contract id, unique within the client' }),
    name: Type.Optional(Text(200)),
    number: Type.Optional(Text(100)),
    status: Type.Optional(Text(50)),
    amount: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12 })),
    autopayment: AutopaymentSchema,
  },
  { additionalProperties: false },
);

export const EMAIL_MAX_LENGTH = 254;
export const EmailSchema = Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH, description: 'Unique (case-insensitive)' });
export const StageRefSchema = Type.String({
  pattern: '^[a-z0-9_]{1,64}$',
  description: 'A configured stage id; on update also "next" or "prev" (move by order)',
});

/** Client fields a caller may set. Server-owned fields (id, dates, version) are refused. */
const writable = {
  name: Text(200),
  email: EmailSchema,
  stage: StageRefSchema,
  is_active: Type.Boolean(),
  source: Text(100, 'Where the client came from (e.g. website)'),
  channel: Text(100, 'Acquisition channel (e.g. organic)'),
  app: AppStatusSchema,
  last_login: Type.String({ format: 'date-time' }),
  contracts: Type.Array(ContractSchema, { maxItems: 100 }),
};

export const CreateClientBodySchema = Type.Object(
  {
    name: writable.name,
    email: writable.email,
    stage: Type.Optional(writable.stage),
    is_active: Type.Optional(writable.is_active),
    source: Type.Optional(writable.source),
    channel: Type.Optional(writable.channel),
    app: Type.Optional(writable.app),
    last_login: Type.Optional(writable.last_login),
    contracts: Type.Optional(writable.contracts),
  },
  { additionalProperties: false, $id: 'CreateClientBody' },
);
export type CreateClientBody = Static<typeof CreateClientBodySchema>;

/** PUT: the full representation plus the stage move; omitted optional fields are cleared. */
export const ReplaceClientBodySchema = Type.Object(
  { ...CreateClientBodySchema.properties, stage: writable.stage },
  { additionalProperties: false, $id: 'ReplaceClientBody' },
);
export type ReplaceClientBody = Static<typeof ReplaceClientBodySchema>;

/** PATCH: any subset of the non-stage fields (stage moves go through PUT …/stage). */
export const PatchClientBodySchema = Type.Object(
  {
    name: Type.Optional(writable.name),
    email: Type.Optional(writable.email),
    is_active: Type.Optional(writable.is_active),
    source: Type.Optional(Type.Union([writable.source, Type.Null()])),
    channel: Type.Optional(Type.Union([writable.channel, Type.Null()])),
    app: Type.Optional(writable.app),
    last_login: Type.Optional(Type.Union([writable.last_login, Type.Null()])),
    contracts: Type.Optional(writable.contracts),
  },
  { additionalProperties: false, minProperties: 1, $id: 'PatchClientBody' },
);
export type PatchClientBody = Static<typeof PatchClientBodySchema>;

/** A client as the write endpoints return it and as change events carry it. */
export const ClientSchema = Type.Object(
  {
    id: ClientIdSchema,
    name: Type.String(),
    email: Type.String(),
    stage: Type.String(),
    is_active: Type.Boolean(),
    source: Type.Union([Type.String(), Type.Null()]),
    channel: Type.Union([Type.String(), Type.Null()]),
    app: AppStatusSchema,
    last_login: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    registration_date: Type.String({ format: 'date-time' }),
    last_updated: Type.String({ format: 'date-time' }),
    contracts: Type.Array(ContractSchema),
    version: Type.Integer({ minimum: 1, description: 'Increases with every change; for optimistic readers' }),
  },
  { additionalProperties: false, $id: 'Client' },
);
export type Client = Static<typeof ClientSchema>;
