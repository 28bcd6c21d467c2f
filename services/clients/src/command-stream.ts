import { APPLY_ACTIVITY_TYPE, ApplyActivityCommandSchema, COMMAND_SCHEMAS, type ApplyActivityCommand, type ClientCommandMessage } from '@trackme/contracts';
import { checkedData, checkedMessage, parseEnvelope, type InboundMessage, type ParsedBatchHandler, type Rejected } from '@trackme/platform';
import type { ActivityItem } from './activity/activity-applier.js';
import type { CommandItem } from './clients/command-handler.js';

/** A message of trackme.client-commands, checked: an ApplyActivity command or a client command. */
export type StreamCommand = { kind: 'activity'; command: ApplyActivityCommand; correlationId: string } | { kind: 'client'; command: ClientCommandMessage };

/** Reads a message of trackme.client-commands; anything but a valid command is poison (dead-lettered with the reason). */
export function parseStreamCommand(message: InboundMessage): StreamCommand {
  const envelope = parseEnvelope(message);
  if (envelope.type === APPLY_ACTIVITY_TYPE) {
    return { kind: 'activity', command: checkedData(envelope, ApplyActivityCommandSchema), correlationId: envelope.correlation_id };
  }
  return { kind: 'client', command: checkedMessage(envelope, COMMAND_SCHEMAS, { kind: 'command' }) };
}

export interface CommandStreamDeps {
  /** a run of consecutive client commands (create, replace, patch, delete), each checked */
  handleCommands: (items: CommandItem[]) => Promise<void>;
  /** a run of consecutive ApplyActivity commands, applied together */
  applyActivity: (items: ActivityItem[]) => Promise<Rejected[]>;
  /** told before a client command changes a client outside the activity path */
  changing?: (clientId: string) => void;
}

/**
 * One partition of trackme.client-commands, in order, as {@link parseStreamCommand} read it: each
 * run of consecutive client commands and each run of consecutive ApplyActivity commands between
 * them is handled as one batch. Both write the same client documents, so they share this single
 * consumer: one writer per client (docs/adr/0002-one-writer-per-client.md).
 */
export function createCommandStream({ handleCommands, applyActivity, changing }: CommandStreamDeps): ParsedBatchHandler<StreamCommand> {
  return async (items) => {
    const rejected: Rejected[] = [];
    let activity: ActivityItem[] = [];
    let commands: CommandItem[] = [];
    const flush = async () => {
      if (activity.length > 0) {
        const run = activity;
        activity = [];
        rejected.push(...(await applyActivity(run)));
      }
      if (commands.length > 0) {
        const run = commands;
        commands = [];
        for (const { command } of run) changing?.(command.data.client_id);
        await handleCommands(run);
      }
    };
    for (const { message, value } of items) {
      if (value.kind === 'activity') {
        if (commands.length > 0) await flush();
        activity.push({ message, command: value.command, correlationId: value.correlationId });
      } else {
        if (activity.length > 0) await flush();
        commands.push({ message, command: value.command });
      }
    }
    await flush();
    return rejected;
  };
}
