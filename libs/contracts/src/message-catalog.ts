import type { TSchema } from 'typebox';
import { COMMAND_REPLY_TYPE, COMMAND_SCHEMAS, CommandReplySchema } from './commands.js';
import { ACTIVITY_EVENT_SCHEMAS, ActivityEventSchema, APPLY_ACTIVITY_TYPE, ApplyActivityCommandSchema } from './activity.js';
import { CLIENT_EVENT_SCHEMAS } from './events.js';
import { TRIGGER_ROLLUP_TYPE, TriggerRollupCommandSchema } from './metrics.js';
import { Topics } from './topics.js';

export interface MessageSpec {
  /** the envelope's `type` (for a plain message, its name) */
  type: string;
  summary: string;
  /** schema of the envelope's `data`, or of the whole value of a plain message */
  data: TSchema;
  /** true for messages other systems write, which are plain JSON without trackme's envelope */
  plain?: boolean;
}

export interface ChannelSpec {
  topic: string;
  /** what the Kafka key is */
  key: string;
  producers: string[];
  consumers: string[];
  /** the consumers' group, when not trackme-<consumer> */
  consumerGroup?: string;
  messages: MessageSpec[];
}

const COMMAND_SUMMARIES: Record<keyof typeof COMMAND_SCHEMAS, string> = {
  CreateClient: 'Create a client (POST /clients)',
  ReplaceClient: "Replace a client's fields and move its stage (PUT /clients/{id}/stage)",
  PatchClient: "Change some of a client's fields (PATCH /clients/{id})",
  MoveClientStage: "Move a client's stage and nothing else (PATCH /clients/{id}/stage, bulk stage moves)",
  DeleteClient: 'Delete a client (DELETE /clients/{id})',
};

const EVENT_SUMMARIES: Record<keyof typeof CLIENT_EVENT_SCHEMAS, string> = {
  ClientCreated: 'A client was created; carries the client',
  ClientUpdated: "Some of a client's fields changed: `changes` has each field's from/to",
  ClientStageChanged: 'A client moved between stages; `rollback` when it moved to a lower order',
  ClientDeleted: 'A client was deleted; carries its last state',
};

const ACTIVITY_CHANGE_SUMMARIES: Record<keyof typeof ACTIVITY_EVENT_SCHEMAS, string> = {
  ClientLoggedIn: 'A login was applied; `last_login` is the latest login after it (a late event leaves it unchanged)',
  ClientAppStatusChanged: 'An app install or uninstall was applied (older events than the last applied one are not)',
  ClientAutopaymentChanged: "A contract's autopayment was enabled or disabled",
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
    producers: ['gateway', 'clients'],
    consumers: ['clients'],
    messages: [
      ...messagesOf(COMMAND_SCHEMAS, COMMAND_SUMMARIES),
      {
        type: APPLY_ACTIVITY_TYPE,
        data: ApplyActivityCommandSchema,
        summary: "A validated activity event routed to its client's partition, where the client's only writer applies it (internal)",
      },
    ],
  },
  {
    topic: Topics.commandReplies,
    key: 'client id',
    producers: ['clients'],
    consumers: ['gateway'],
    messages: [{ type: COMMAND_REPLY_TYPE, data: CommandReplySchema, summary: 'The outcome of one command (created, changed, unchanged, deleted, or refused with a code), for the gateway that sent it' }],
  },
  {
    topic: Topics.clientEvents,
    key: 'client id',
    producers: ['clients'],
    consumers: ['read', 'metrics'],
    messages: [...messagesOf(CLIENT_EVENT_SCHEMAS, EVENT_SUMMARIES), ...messagesOf(ACTIVITY_EVENT_SCHEMAS, ACTIVITY_CHANGE_SUMMARIES)],
  },
  {
    topic: Topics.activity,
    key: 'client id, or email when the producer does not know the id',
    producers: ['other systems', 'gateway'],
    consumers: ['clients'],
    consumerGroup: 'trackme-clients-activity',
    messages: [
      {
        type: 'ActivityEvent',
        data: ActivityEventSchema,
        plain: true,
        summary: 'Something a client did, reported by another system: plain JSON, one event per message, applied once per event_id',
      },
    ],
  },
  {
    topic: Topics.metricsCommands,
    key: 'interval',
    producers: ['gateway'],
    consumers: ['metrics'],
    consumerGroup: 'trackme-metrics-commands',
    messages: [
      {
        type: TRIGGER_ROLLUP_TYPE,
        data: TriggerRollupCommandSchema,
        summary:
          'Recompute the rollups of one interval (GET|POST /metrics/calculate): the period containing `period`, or the current one to date; ' +
          'the envelope id is the job id',
      },
    ],
  },
];
