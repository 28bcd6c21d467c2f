import { Type, type Static } from 'typebox';
import { ClientIdSchema, ClientSchema, CreateClientBodySchema, InstantSchema, MoveStageBodySchema, PatchClientBodySchema, ReplaceClientBodySchema } from './clients.js';
import { FieldErrorSchema } from './field-error.js';

/** Who asked for a change; recorded in the client's history. */
export const ActorSchema = Type.Object(
  {
    subject: Type.String({ minLength: 1, maxLength: 200 }),
    role: Type.Optional(Type.String({ maxLength: 50 })),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type Actor = Static<typeof ActorSchema>;

/** Message types on trackme.client-commands (the envelope's `type`). The envelope id is the command id. */
export const CommandTypes = {
  createClient: 'CreateClient',
  replaceClient: 'ReplaceClient',
  patchClient: 'PatchClient',
  moveClientStage: 'MoveClientStage',
  deleteClient: 'DeleteClient',
} as const;

const base = { client_id: ClientIdSchema, actor: ActorSchema };

/**
 * A client brought over from another system (`npm run import-legacy`): it keeps the dates it had
 * there, and `fields.stage` may be any configured stage, since its moves happened before.
 */
export const ImportedClientSchema = Type.Object(
  {
    registration_date: InstantSchema('When the client registered in the system it comes from'),
    last_updated: InstantSchema('Its last change there'),
  },
  { additionalProperties: false },
);
export type ImportedClient = Static<typeof ImportedClientSchema>;

export const CreateClientCommandSchema = Type.Object(
  { ...base, fields: CreateClientBodySchema, imported: Type.Optional(ImportedClientSchema) },
  { additionalProperties: false },
);
export const ReplaceClientCommandSchema = Type.Object({ ...base, fields: ReplaceClientBodySchema }, { additionalProperties: false });
export const PatchClientCommandSchema = Type.Object({ ...base, fields: PatchClientBodySchema }, { additionalProperties: false });
export const MoveClientStageCommandSchema = Type.Object({ ...base, fields: MoveStageBodySchema }, { additionalProperties: false });
export const DeleteClientCommandSchema = Type.Object(base, { additionalProperties: false });

export const COMMAND_SCHEMAS = {
  [CommandTypes.createClient]: CreateClientCommandSchema,
  [CommandTypes.replaceClient]: ReplaceClientCommandSchema,
  [CommandTypes.patchClient]: PatchClientCommandSchema,
  [CommandTypes.moveClientStage]: MoveClientStageCommandSchema,
  [CommandTypes.deleteClient]: DeleteClientCommandSchema,
} as const;

/**
 * Why a command was refused, in domain terms: `invalid` (the request breaks a rule: a field, a
 * stage move), `not_found` (no such client), `conflict` (it clashes with existing state, e.g. a
 * taken email). `code` is the stable code callers see; only the gateway turns it into HTTP.
 */
export const RefusalSchema = Type.Object(
  {
    reason: Type.Union([Type.Literal('invalid'), Type.Literal('not_found'), Type.Literal('conflict')]),
    code: Type.String({ minLength: 1 }),
    message: Type.String(),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
  },
  { additionalProperties: false },
);
export type Refusal = Static<typeof RefusalSchema>;

const replyIds = { command_id: Type.String({ minLength: 1 }), client_id: ClientIdSchema };

/** On trackme.command-replies, type `CommandReply`: the outcome of one command, for the gateway that sent it. */
export const CommandReplySchema = Type.Union([
  Type.Object(
    {
      ...replyIds,
      outcome: Type.Union([Type.Literal('created'), Type.Literal('changed'), Type.Literal('unchanged')]),
      /** the client after the command */
      client: ClientSchema,
    },
    { additionalProperties: false },
  ),
  Type.Object({ ...replyIds, outcome: Type.Literal('deleted') }, { additionalProperties: false }),
  Type.Object({ ...replyIds, outcome: Type.Literal('refused'), refusal: RefusalSchema }, { additionalProperties: false }),
]);
export type CommandReply = Static<typeof CommandReplySchema>;
/** A command's outcome, as the reply carries it without the ids. */
export type CommandOutcome = CommandReply extends infer Reply ? (Reply extends unknown ? Omit<Reply, 'command_id' | 'client_id'> : never) : never;
export const COMMAND_REPLY_TYPE = 'CommandReply';
