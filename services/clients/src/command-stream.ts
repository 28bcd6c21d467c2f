import { APPLY_ACTIVITY_TYPE, ApplyActivityCommandSchema, COMMAND_SCHEMAS } from '@trackme/contracts';
import { checkedData, checkedMessage, parseEnvelope, PoisonMessageError, rejectedOf, type BatchHandler, type Rejected } from '@trackme/platform';
import type { ActivityItem } from './activity/activity-applier.js';
import type { CommandItem } from './clients/command-handler.js';

export interface CommandStreamDeps {
  /** a run of consecutive client commands (create, replace, patch, delete), each checked */
  handleCommands: (items: CommandItem[]) => Promise<void>;
  /** a run of consecutive ApplyActivity commands, applied together */
  applyActivity: (items: ActivityItem[]) => Promise<Rejected[]>;
  /** told before a client command changes a client outside the activity path */
  changing?: (clientId: string) => void;
}

/**
 * One partition of trackme.client-commands, in order: each run of consecutive client commands and
 * each run of consecutive ApplyActivity commands between them is handled as one batch. Both write
 * the same client documents, so they share this single consumer: one writer per client
 * (docs/adr/0002-one-writer-per-client.md).
 */
export function createCommandStream({ handleCommands, applyActivity, changing }: CommandStreamDeps): BatchHandler {
  return async (messages) => {
    const rejected: Rejected[] = [];
    let activity: ActivityItem[] = [];
    let commands: CommandItem[] = [];
    const flush = async () => {
      if (activity.length > 0) {
        const items = activity;
        activity = [];
        rejected.push(...(await applyActivity(items)));
      }
      if (commands.length > 0) {
        const items = commands;
        commands = [];
        for (const { command } of items) changing?.(command.data.client_id);
        await handleCommands(items);
      }
    };
    for (const message of messages) {
      try {
        const envelope = parseEnvelope(message);
        if (envelope.type === APPLY_ACTIVITY_TYPE) {
          const item = { message, command: checkedData(envelope, ApplyActivityCommandSchema), correlationId: envelope.correlation_id };
          if (commands.length > 0) await flush();
          activity.push(item);
        } else {
          const command = checkedMessage(envelope, COMMAND_SCHEMAS, { kind: 'command' });
          if (activity.length > 0) await flush();
          commands.push({ message, command });
        }
      } catch (error) {
        if (!(error instanceof PoisonMessageError)) throw error;
        rejected.push(rejectedOf(message, error));
      }
    }
    await flush();
    return rejected;
  };
}
