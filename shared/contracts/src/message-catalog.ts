import type { TSchema } from 'typebox';
import { COMMAND_REPLY_TYPE, COMMAND_SCHEMAS, CommandReplySchema } from './commands.js';
import { CLIENT_EVENT_SCHEMAS } from './events.js';
import { Topics } from './topics.js';

export interface MessageSpec {
  /** the envelope's `type` */
  type: string;
  summary: string;
  /** schema of the envelope's `data` */
  data: TSchema;
}

export interface ChannelSpec {
  topic: string;
  /** what the Kafka key is */
  key: string;
  producers: string[];
  consumers: string[];
  messages: MessageSpec[];
}

const COMMAND_SUMMARIES: Record<keyof typeof COMMAND_SCHEMAS, string> = {
  CreateClient: 'Create a client (POST /clients)',
  ReplaceClient: "Replace a client's fields and move its stage (PUT /clients/{id}/stage)",
  PatchClient: "Change some of a client's fields (PATCH /clients/{id})",
  DeleteClient: 'Delete a client (DELETE /clients/{id})',
};

const EVENT_SUMMARIES: Record<keyof typeof CLIENT_EVENT_SCHEMAS, string> = {
  ClientCreated: 'A client was created; carries the client',
  ClientUpdated: "Some of a client's fields changed: `changes` has each field's from/to",
  ClientStageChanged: 'A client moved between stages; `rollback` when it moved to a lower order',
  ClientDeleted: 'A client was deleted; carries its last state',
};

function messagesOf<T extends string>(schemas: Record<T, TSchema>, summaries: Record<T, string>): MessageSpec[] {
  return (Object.keys(schemas) as T[]).map((type) => ({ type, data: schemas[type], summary: summaries[type] }));
}

/**
 * Which messages travel on which topic, who produces and who consumes them: the source of
 * docs/asyncapi.yaml (`npm run asyncapi`). Every message is wrapped in the envelope.
 */
export const MESSAGE_CATALOG: readonly ChannelSpec[] = [
  {
    topic: Topics.clientCommands,
    key: 'client id',
    producers: ['gateway'],
    consumers: ['clients'],
    messages: messagesOf(COMMAND_SCHEMAS, COMMAND_SUMMARIES),
  },
  {
    topic: Topics.commandReplies,
    key: 'client id',
    producers: ['clients'],
    consumers: ['gateway'],
    messages: [{ type: COMMAND_REPLY_TYPE, data: CommandReplySchema, summary: 'The HTTP outcome of one command, for the gateway that sent it' }],
  },
  {
    topic: Topics.clientEvents,
    key: 'client id',
    producers: ['clients'],
    consumers: ['read'],
    messages: messagesOf(CLIENT_EVENT_SCHEMAS, EVENT_SUMMARIES),
  },
];
