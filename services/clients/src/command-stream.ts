import { APPLY_ACTIVITY_TYPE, ApplyActivityCommandSchema, Headers, type ApplyActivityCommand, type Envelope } from '@trackme/contracts';
import { checkedData, parseEnvelope, PoisonMessageError, rejectedOf, withCorrelation, type BatchHandler, type Rejected } from '@trackme/platform';
import type { ActivityItem } from './activity/activity-applier.js';

export interface CommandStreamDeps {
  /** one client command (create, replace, patch, delete), replied to one by one */
  handleCommand: (envelope: Envelope) => Promise<void>;
  /** a run of consecutive ApplyActivity commands, applied together */
  applyActivity: (items: ActivityItem[]) => Promise<Rejected[]>;
  /** told before a client command changes a client outside the activity path */
  changing?: (clientId: string) => void;
}

/**
 * One partition of trackme.client-commands, in order: client commands one at a time, and each
 * run of consecutive ApplyActivity commands between them as one batch. Both write the same client
 * documents, so they share this single consumer: one writer per client (DESIGN.md §2).
 */
export function createCommandStream({ handleCommand, applyActivity, changing }: CommandStreamDeps): BatchHandler {
  return async (messages) => {
    const rejected: Rejected[] = [];
    let run: ActivityItem[] = [];
    const flush = async () => {
      if (run.length === 0) return;
      const items = run;
      run = [];
      rejected.push(...(await applyActivity(items)));
    };
    for (const message of messages) {
      try {
        const envelope = parseEnvelope(message);
        if (envelope.type === APPLY_ACTIVITY_TYPE) {
          run.push({ message, command: checkedData<ApplyActivityCommand>(envelope, ApplyActivityCommandSchema), correlationId: envelope.correlation_id });
          continue;
        }
        await flush();
        const clientId = (envelope.data as { client_id?: unknown } | null)?.client_id;
        if (typeof clientId === 'string') changing?.(clientId);
        await withCorrelation(message.headers[Headers.correlationId] ?? envelope.correlation_id, () => handleCommand(envelope));
      } catch (error) {
        if (!(error instanceof PoisonMessageError)) throw error;
        rejected.push(rejectedOf(message, error));
      }
    }
    await flush();
    return rejected;
  };
}
