import { Type, type Static } from 'typebox';
import { ClientIdSchema, CreateClientBodySchema, PatchClientBodySchema, ReplaceClientBodySchema } from './clients.js';

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
  deleteClient: 'DeleteClient',
} as const;

const base = { client_id: ClientIdSchema, actor: ActorSchema };

export const CreateClientCommandSchema = Type.Object({ ...base, fields: CreateClientBodySchema }, { additionalProperties: false });
export const ReplaceClientCommandSchema = Type.Object({ ...base, fields: ReplaceClientBodySchema }, { additionalProperties: false });
export const PatchClientCommandSchema = Type.Object({ ...base, fields: PatchClientBodySchema }, { additionalProperties: false });
export const DeleteClientCommandSchema = Type.Object(base, { additionalProperties: false });

export const COMMAND_SCHEMAS = {
  [CommandTypes.createClient]: CreateClientCommandSchema,
  [CommandTypes.replaceClient]: ReplaceClientCommandSchema,
  [CommandTypes.patchClient]: PatchClientCommandSchema,
  [CommandTypes.deleteClient]: DeleteClientCommandSchema,
} as const;

/** On trackme.command-replies, type `CommandReply`: the HTTP outcome of one command. */
export const CommandReplySchema = Type.Object(
  {
    command_id: Type.String({ minLength: 1 }),
    client_id: ClientIdSchema,
    status: Type.Integer({ minimum: 200, maximum: 599 }),
    /** `{data: client}` on success, a problem document on failure, absent for 204 */
    body: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type CommandReply = Static<typeof CommandReplySchema>;
export const COMMAND_REPLY_TYPE = 'CommandReply';
