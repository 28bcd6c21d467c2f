import { Type, type Static } from 'typebox';
import { ClientSchema } from './clients.js';
import { ActorSchema } from './commands.js';

/** Change events on trackme.client-events; the envelope id is the event id consumers dedup on. */
export const ClientEventTypes = {
  created: 'ClientCreated',
  updated: 'ClientUpdated',
  stageChanged: 'ClientStageChanged',
  deleted: 'ClientDeleted',
} as const;
export type ClientEventType = (typeof ClientEventTypes)[keyof typeof ClientEventTypes];

const common = {
  client_id: Type.String(),
  /** the client's version after this change; readers ignore events older than what they hold */
  version: Type.Integer({ minimum: 1 }),
  command_id: Type.String(),
  actor: ActorSchema,
};

export const FieldChangeSchema = Type.Object({ from: Type.Unknown(), to: Type.Unknown() }, { additionalProperties: false });

export const ClientCreatedSchema = Type.Object(
  {
    ...common,
    client: ClientSchema,
    /** brought over from another system: registered on `client.registration_date`, not now */
    imported: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);
export const ClientUpdatedSchema = Type.Object(
  { ...common, changes: Type.Record(Type.String(), FieldChangeSchema), client: ClientSchema },
  { additionalProperties: false },
);
export const ClientStageChangedSchema = Type.Object(
  { ...common, from: Type.String(), to: Type.String(), rollback: Type.Boolean(), client: ClientSchema },
  { additionalProperties: false },
);
export const ClientDeletedSchema = Type.Object({ ...common, client: ClientSchema }, { additionalProperties: false });

export type ClientCreated = Static<typeof ClientCreatedSchema>;
export type ClientUpdated = Static<typeof ClientUpdatedSchema>;
export type ClientStageChanged = Static<typeof ClientStageChangedSchema>;
export type ClientDeleted = Static<typeof ClientDeletedSchema>;

export const CLIENT_EVENT_SCHEMAS = {
  [ClientEventTypes.created]: ClientCreatedSchema,
  [ClientEventTypes.updated]: ClientUpdatedSchema,
  [ClientEventTypes.stageChanged]: ClientStageChangedSchema,
  [ClientEventTypes.deleted]: ClientDeletedSchema,
} as const;
