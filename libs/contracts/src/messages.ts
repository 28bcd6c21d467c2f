import { Type, type Static, type TSchema } from 'typebox';
import { ACTIVITY_EVENT_SCHEMAS, APPLY_ACTIVITY_TYPE, ApplyActivityCommandSchema } from './activity.js';
import { COMMAND_REPLY_TYPE, type COMMAND_SCHEMAS, CommandReplySchema } from './commands.js';
import type { Envelope } from './envelope.js';
import { CLIENT_EVENT_SCHEMAS } from './events.js';
import { TRIGGER_ROLLUP_TYPE, TriggerRollupCommandSchema } from './metrics.js';

/** Message schemas by envelope type. */
export type MessageSchemas = Readonly<Record<string, TSchema>>;

/** One `{type, data}` per entry of a schema map, as a union discriminated by `type`. */
export type TypedData<S extends MessageSchemas> = { [K in keyof S & string]: { type: K; data: Static<S[K]> } }[keyof S & string];

/** The envelope of any message of a schema map, its `data` typed by its `type`. */
export type MessageOf<S extends MessageSchemas> = Omit<Envelope, 'type' | 'data'> & TypedData<S>;

/** A client command as `decide` takes it: its type and its checked data. */
export type ClientCommand = TypedData<typeof COMMAND_SCHEMAS>;
export type ClientCommandMessage = MessageOf<typeof COMMAND_SCHEMAS>;

/** Every change event on trackme.client-events: the client's own changes and what activity changed. */
export const CHANGE_EVENT_SCHEMAS = { ...CLIENT_EVENT_SCHEMAS, ...ACTIVITY_EVENT_SCHEMAS } as const;
export type ChangeEventType = keyof typeof CHANGE_EVENT_SCHEMAS;
export type ChangeEvent = MessageOf<typeof CHANGE_EVENT_SCHEMAS>;

export const COMMAND_REPLY_SCHEMAS = { [COMMAND_REPLY_TYPE]: CommandReplySchema } as const;
export type CommandReplyMessage = MessageOf<typeof COMMAND_REPLY_SCHEMAS>;

export const APPLY_ACTIVITY_SCHEMAS = { [APPLY_ACTIVITY_TYPE]: ApplyActivityCommandSchema } as const;
export type ApplyActivityMessage = MessageOf<typeof APPLY_ACTIVITY_SCHEMAS>;

export const METRICS_COMMAND_SCHEMAS = { [TRIGGER_ROLLUP_TYPE]: TriggerRollupCommandSchema } as const;
export type MetricsCommandMessage = MessageOf<typeof METRICS_COMMAND_SCHEMAS>;

/**
 * What every change event has, whatever its type: whose change it is, the client's version after
 * it and, for the types that carry one, the client's snapshot. A reader that only needs this keeps
 * working with event types added after it (other fields are allowed).
 */
export const ChangeFactsSchema = Type.Object({
  client_id: Type.String(),
  version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  client: Type.Optional(Type.Unknown()),
});
