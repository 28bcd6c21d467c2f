import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { ClientIdSchema, ClientSchema, EmailSchema } from './clients.js';
import { ActorSchema } from './commands.js';
import type { FieldError } from './field-error.js';
import { pathDeeperThan } from './json-limits.js';
import { fieldErrorsOf } from './schema-errors.js';
import { normalizeEmail } from './stored-client.js';

/**
 * Activity that other systems report (docs/architecture.md, "Activity ingestion"). Messages on
 * trackme.activity are these events as plain JSON, one per message, keyed by client id or email;
 * they are not wrapped in trackme's envelope, so any producer can write them.
 */
export const ActivityTypes = {
  login: 'login',
  appInstalled: 'app_installed',
  appUninstalled: 'app_uninstalled',
  autopaymentEnabled: 'autopayment_enabled',
  autopaymentDisabled: 'autopayment_disabled',
} as const;
export type ActivityType = (typeof ActivityTypes)[keyof typeof ActivityTypes];

/** How far in the future `occurred_at` may be (producers' clocks drift a little, not more). */
export const ACTIVITY_MAX_FUTURE_MS = 5 * 60 * 1000;
export const ACTIVITY_BATCH_MAX_EVENTS = 500;
export const ACTIVITY_BATCH_MAX_BYTES = 512 * 1024;
/** `properties` is free data kept with the event: a few levels and a few KB are plenty. */
export const ACTIVITY_PROPERTIES_MAX_DEPTH = 8;
export const ACTIVITY_PROPERTIES_MAX_BYTES = 4 * 1024;

export const ActivityEventSchema = Type.Object(
  {
    event_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', description: 'Unique id of the event; trackme applies each id once (kept at least 7 days)' }),
    type: Type.Union(
      [
        Type.Literal(ActivityTypes.login),
        Type.Literal(ActivityTypes.appInstalled),
        Type.Literal(ActivityTypes.appUninstalled),
        Type.Literal(ActivityTypes.autopaymentEnabled),
        Type.Literal(ActivityTypes.autopaymentDisabled),
      ],
      { description: 'What happened' },
    ),
    client_id: Type.Optional({ ...ClientIdSchema, description: 'The client; either this or `email` is required' }),
    email: Type.Optional({ ...EmailSchema, description: "The client's email (any case), when the producer does not know the id" }),
    occurred_at: Type.String({ format: 'date-time', description: 'When it happened (RFC 3339); at most 5 minutes in the future' }),
    contract_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, pattern: '^[^$.]+$', description: 'The contract whose autopayment changed; required for autopayment events' }),
    ),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'The reporting system, e.g. auth-service' })),
    properties: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 50, description: `Free data, kept with the event: at most ${ACTIVITY_PROPERTIES_MAX_DEPTH} levels deep and ${ACTIVITY_PROPERTIES_MAX_BYTES} bytes as JSON` })),
  },
  { additionalProperties: false, $id: 'ActivityEvent' },
);
export type ActivityEvent = Static<typeof ActivityEventSchema>;

export type ActivityValidation = { ok: true; event: ActivityEvent } | { ok: false; errors: FieldError[] };

const isAutopayment = (type: ActivityType) => type === ActivityTypes.autopaymentEnabled || type === ActivityTypes.autopaymentDisabled;

/**
 * Checks one activity event: its schema, then the rules a schema cannot say (a client reference,
 * a contract for autopayment events, `occurred_at` not in the future). Every problem names its field.
 */
export function validateActivity(raw: unknown, now: Date): ActivityValidation {
  if (!Value.Check(ActivityEventSchema, raw)) {
    return { ok: false, errors: fieldErrorsOf(ActivityEventSchema, raw) };
  }
  const event = raw as ActivityEvent;
  const errors: FieldError[] = [];
  if (event.client_id === undefined && event.email === undefined) errors.push({ field: 'client_id', message: 'client_id or email is required' });
  if (isAutopayment(event.type) && event.contract_id === undefined) errors.push({ field: 'contract_id', message: `required for ${event.type}` });
  if (!isAutopayment(event.type) && event.contract_id !== undefined) errors.push({ field: 'contract_id', message: `only autopayment events name a contract` });
  const properties = propertiesProblem(event.properties);
  if (properties) errors.push({ field: 'properties', message: properties });
  const at = Date.parse(event.occurred_at);
  if (at > now.getTime() + ACTIVITY_MAX_FUTURE_MS) errors.push({ field: 'occurred_at', message: 'must not be more than 5 minutes in the future' });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, event };
}

/** The Kafka key of an event: its client id, else its normalized email. */
export const activityKey = (event: ActivityEvent): string => event.client_id ?? normalizeEmail(event.email!);

/** Why `properties` is refused, if it is: too deep (checked first: serializing it would recurse), or too large. */
function propertiesProblem(properties: ActivityEvent['properties']): string | undefined {
  if (properties === undefined) return undefined;
  // `properties` itself is level 1
  if (pathDeeperThan(properties, ACTIVITY_PROPERTIES_MAX_DEPTH) !== undefined) return `must not nest more than ${ACTIVITY_PROPERTIES_MAX_DEPTH} levels deep`;
  if (Buffer.byteLength(JSON.stringify(properties)) > ACTIVITY_PROPERTIES_MAX_BYTES) return `must not exceed ${ACTIVITY_PROPERTIES_MAX_BYTES} bytes as JSON`;
  return undefined;
}

/**
 * Internal command on trackme.client-commands, type `ApplyActivity`: a validated event routed to
 * its client's partition, so the one writer of that client applies it (docs/adr/0002-one-writer-per-client.md).
 */
export const APPLY_ACTIVITY_TYPE = 'ApplyActivity';
export const ApplyActivityCommandSchema = Type.Object(
  {
    client_id: ClientIdSchema,
    event: ActivityEventSchema,
    /** where the event was read, for dead letters */
    origin: Type.Object(
      { topic: Type.String(), partition: Type.Integer({ minimum: 0 }), offset: Type.String() },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ApplyActivityCommand = Static<typeof ApplyActivityCommandSchema>;

/** Change events that activity causes, on trackme.client-events. */
export const ActivityEventTypes = {
  loggedIn: 'ClientLoggedIn',
  appStatusChanged: 'ClientAppStatusChanged',
  autopaymentChanged: 'ClientAutopaymentChanged',
} as const;

const activityCommon = {
  client_id: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  /** the activity event's id */
  command_id: Type.String(),
  actor: ActorSchema,
  activity: Type.Object(
    {
      event_id: Type.String(),
      type: Type.String(),
      occurred_at: Type.String({ format: 'date-time' }),
      source: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
};

export const ClientLoggedInSchema = Type.Object(
  {
    ...activityCommon,
    /** the client's last login after this event: a late event leaves it where it was */
    last_login: Type.String({ format: 'date-time' }),
    client: ClientSchema,
  },
  { additionalProperties: false },
);
export const ClientAppStatusChangedSchema = Type.Object(
  { ...activityCommon, from: Type.String(), to: Type.String(), client: ClientSchema },
  { additionalProperties: false },
);
export const ClientAutopaymentChangedSchema = Type.Object(
  { ...activityCommon, contract_id: Type.String(), from: Type.String(), to: Type.String(), client: ClientSchema },
  { additionalProperties: false },
);
export type ClientLoggedIn = Static<typeof ClientLoggedInSchema>;
export type ClientAppStatusChanged = Static<typeof ClientAppStatusChangedSchema>;
export type ClientAutopaymentChanged = Static<typeof ClientAutopaymentChangedSchema>;

export const ACTIVITY_EVENT_SCHEMAS = {
  [ActivityEventTypes.loggedIn]: ClientLoggedInSchema,
  [ActivityEventTypes.appStatusChanged]: ClientAppStatusChangedSchema,
  [ActivityEventTypes.autopaymentChanged]: ClientAutopaymentChangedSchema,
} as const;
