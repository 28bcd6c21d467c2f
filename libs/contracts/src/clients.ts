import { Type, type Static, type TString } from 'typebox';

/**
 * Client schemas shared by HTTP (request/response bodies, OpenAPI) and Kafka (command and event
 * payloads). Field names are the older service's, so its integrations keep working.
 */

const Text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', ...(description ? { description } : {}) });

/**
 * An instant a caller sends: RFC 3339 date-time, the form both the HTTP validator and the message
 * validator accept and that a JavaScript Date can hold (no leap second `:60`, a `T` between date
 * and time); the services store and answer it in UTC. Years run from 1000 to 8999, so the UTC form
 * of any offset still has four digits (0000-01-01T00:00+23:59 would become year -1).
 */
const RFC3339_INSTANT = '^[1-8]\\d{3}-\\d{2}-\\d{2}T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$';
export const InstantSchema = (description?: string) =>
  Type.String({ format: 'date-time', pattern: RFC3339_INSTANT, ...(description ? { description } : {}) });

export const ClientIdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Client id' });

export const AppStatusSchema = Type.Union([Type.Literal('installed'), Type.Literal('not_installed')], {
  description: 'Whether the client installed the mobile app',
});
export const AutopaymentSchema = Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]);

export const CONTRACT_TEXT_MAX = { name: 200, number: 100, status: 50, payment_frequency: 50 } as const;
export const CONTRACT_AMOUNT_MAX = 1e12;

/** A contract's fields, with the form its two dates take: as sent, or as answered (UTC). */
const contractFields = (instant: (description: string) => TString) => ({
  id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^$.]+$', description: 'Contract id, unique within the client' }),
  name: Type.Optional(Text(CONTRACT_TEXT_MAX.name, 'Contract name; not blank')),
  number: Type.Optional(Text(CONTRACT_TEXT_MAX.number, 'Contract number; not blank')),
  status: Type.Optional(Text(CONTRACT_TEXT_MAX.status, 'e.g. active, pending, expired')),
  conclusion_date: Type.Optional(instant('When the contract was signed and paid (RFC 3339); answered in UTC')),
  expiration_date: Type.Optional(instant('When the contract expires (RFC 3339); answered in UTC')),
  amount: Type.Optional(Type.Number({ minimum: 0, maximum: CONTRACT_AMOUNT_MAX, description: 'Payment amount' })),
  payment_frequency: Type.Optional(Text(CONTRACT_TEXT_MAX.payment_frequency, 'e.g. monthly, quarterly, annually')),
  autopayment: { ...AutopaymentSchema, description: 'disabled is highlighted in red on reads' },
});

/**
 * A contract as the older service stored it: nine fields. Only `id` and `autopayment` are
 * required, so the older README's two-field contract keeps working; the others are checked
 * when given (the older create refused a blank name or number).
 */
export const ContractSchema = Type.Object(contractFields(InstantSchema), { additionalProperties: false });
export type Contract = Static<typeof ContractSchema>;

/**
 * A contract as answered and carried by events: its dates in UTC, which may fall one day outside
 * the years a caller may send (1000-01-01T00:00+23:59 is 0999-12-31 in UTC).
 */
export const StoredContractSchema = Type.Object(
  contractFields((description) => Type.String({ format: 'date-time', description })),
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
  last_login: InstantSchema(),
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

/**
 * PATCH …/stage: a stage move alone. The client's other fields stay as they are when the move is
 * applied, so a change someone made since the caller read the client is kept.
 */
export const MoveStageBodySchema = Type.Object({ stage: writable.stage }, { additionalProperties: false, $id: 'MoveStageBody' });
export type MoveStageBody = Static<typeof MoveStageBodySchema>;

/** PATCH: any subset of the non-stage fields (stage moves go through …/stage). */
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
    contracts: Type.Array(StoredContractSchema),
    version: Type.Integer({ minimum: 1, description: 'Increases with every change; for optimistic readers' }),
  },
  { additionalProperties: false, $id: 'Client' },
);
export type Client = Static<typeof ClientSchema>;
