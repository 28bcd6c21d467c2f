import { Type, type Static } from 'typebox';
import { AppStatusSchema, AutopaymentSchema, ClientIdSchema, EmailSchema, StoredContractSchema } from './clients.js';

/**
 * The read side's public shapes: list filters and a client as lists and GET /clients/{id} show it,
 * with the older service's highlight objects. Shared by the gateway (validation, OpenAPI) and the
 * read service (which builds these responses).
 */

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;
export const LIST_OFFSET_MAX = 1_000_000;

const Day = (description: string) => Type.String({ format: 'date', description: `${description} (YYYY-MM-DD, UTC)` });
const Label = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });

export const ListClientsQuerySchema = Type.Object(
  {
    id: Type.Optional(ClientIdSchema),
    email: Type.Optional({ ...EmailSchema, description: 'Exact email, case-insensitive' }),
    stage: Type.Optional(Type.String({ pattern: '^[a-z0-9_]{1,64}$', description: 'Current stage id' })),
    source: Type.Optional(Label('Exact source')),
    channel: Type.Optional(Label('Exact channel')),
    app: Type.Optional(AppStatusSchema),
    is_active: Type.Boolean({ default: true, description: 'Active clients (default) or inactive ones' }),
    updated: Type.Optional(Day('Last updated on or after this day')),
    last_login: Type.Optional(Day('Last login on or after this day')),
    highlighted: Type.Optional(
      Type.Boolean({ description: 'true: clients with at least one highlight; false: clients without any' }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT, description: 'Page size' }),
    offset: Type.Integer({ minimum: 0, maximum: LIST_OFFSET_MAX, default: 0, description: 'Clients to skip' }),
  },
  { additionalProperties: false },
);
export type ListClientsQuery = Static<typeof ListClientsQuerySchema>;

/** The filter names in the order they form a cache key and a forwarded query string. */
export const LIST_QUERY_FIELDS = Object.keys(ListClientsQuerySchema.properties) as (keyof ListClientsQuery)[];

const { limit: _limit, offset: _offset, ...listFilterProperties } = ListClientsQuerySchema.properties;

/** A list query's filter without its paging: what a bulk job selects its clients by. */
export const ListClientsFilterSchema = Type.Object(listFilterProperties, { additionalProperties: false });
export type ListClientsFilter = Static<typeof ListClientsFilterSchema>;

/** The filter names of a list query, in LIST_QUERY_FIELDS order. */
export const LIST_FILTER_FIELDS = Object.keys(listFilterProperties) as (keyof ListClientsFilter)[];

/** The most clients one bulk job may touch; a wider filter is refused, to be narrowed. */
export const BULK_MAX_CLIENTS = 100_000;

export const AppViewSchema = Type.Object(
  { status: AppStatusSchema, highlight: Type.Boolean({ description: 'true when the app is not installed' }) },
  { additionalProperties: false },
);

export const LastLoginViewSchema = Type.Object(
  {
    date: Type.Union([Type.String({ format: 'date' }), Type.Null()], { description: 'Day of the last login (UTC), as the older service gave it' }),
    at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Instant of the last login' }),
    highlight: Type.Boolean({ description: 'true when the client never logged in or not within the configured days' }),
  },
  { additionalProperties: false },
);

export const ContractViewSchema = Type.Object(
  {
    ...StoredContractSchema.properties,
    autopayment: Type.Object(
      { status: AutopaymentSchema, highlight: Type.Boolean({ description: 'true when autopayment is disabled' }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const ClientViewSchema = Type.Object(
  {
    id: ClientIdSchema,
    name: Type.String(),
    email: Type.String(),
    stage: Type.String(),
    is_active: Type.Boolean(),
    registration_date: Type.String({ format: 'date-time' }),
    last_updated: Type.String({ format: 'date-time' }),
    source: Type.Union([Type.String(), Type.Null()]),
    channel: Type.Union([Type.String(), Type.Null()]),
    app: AppViewSchema,
    last_login: LastLoginViewSchema,
    contracts: Type.Array(ContractViewSchema),
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false, $id: 'ClientView' },
);
export type ClientView = Static<typeof ClientViewSchema>;

export const ClientListSchema = Type.Object(
  {
    data: Type.Array(ClientViewSchema),
    meta: Type.Object(
      { total: Type.Integer({ minimum: 0 }), limit: Type.Integer(), offset: Type.Integer() },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'ClientList' },
);
export type ClientList = Static<typeof ClientListSchema>;
