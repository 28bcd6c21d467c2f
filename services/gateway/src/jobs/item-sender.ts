import { CommandTypes, type Actor, type CommandReply } from '@trackme/contracts';
import type { CommandBus } from '../commands/command-bus.js';
import type { ReadClient } from '../read/read-client.js';
import type { JobItem } from './job-model.js';

const COMMAND_OF = {
  create: CommandTypes.createClient,
  upsert: CommandTypes.createClient,
  patch: CommandTypes.patchClient,
  move: CommandTypes.moveClientStage,
  replace: CommandTypes.replaceClient,
  delete: CommandTypes.deleteClient,
} as const;

export interface ItemSending {
  bus: CommandBus;
  read: ReadClient;
  timeoutMs: number;
}

/**
 * Sends one item as an ordinary client command and returns the item with its outcome, or still
 * pending when no reply came in time (sent again later under the same command id, so applied
 * once). An upsert whose email is taken becomes a patch of the client holding it.
 */
export async function sendItem(sending: ItemSending, item: JobItem, commandId: string, actor: Actor): Promise<JobItem> {
  const { client_id: clientId, fields } = item;
  const data = item.op === 'delete' ? { client_id: clientId, actor } : { client_id: clientId, actor, fields };
  const sent = await sending.bus.send(COMMAND_OF[item.op], clientId, data, commandId, sending.timeoutMs);
  if (sent.kind === 'timeout') return item;
  const reply = sent.reply;
  if (item.op === 'upsert' && reply.outcome === 'refused' && reply.refusal.code === 'email_taken') {
    const holder = await holderOf(sending.read, String(fields?.['email']));
    if (holder) {
      const { stage: _stage, ...patch } = fields ?? {};
      const update = await sending.bus.send(CommandTypes.patchClient, holder, { client_id: holder, actor, fields: patch }, `${commandId}:update`, sending.timeoutMs);
      return update.kind === 'timeout' ? item : settled({ ...item, client_id: holder }, update.reply);
    }
  }
  return settled(item, reply);
}

/** The item with its reply: succeeded with the outcome, or refused with the reason. */
export function settled(item: JobItem, reply: CommandReply): JobItem {
  if (reply.outcome === 'refused') {
    const { code, message, errors } = reply.refusal;
    return { ...item, status: 'refused', code, message, ...(errors ? { errors } : {}) };
  }
  return { ...item, client_id: reply.client_id, status: 'succeeded', outcome: reply.outcome };
}

/** The client holding an email, active or not, as the read model knows it. */
async function holderOf(read: ReadClient, email: string): Promise<string | undefined> {
  for (const active of [true, false]) {
    const query = new URLSearchParams({ email, is_active: String(active), limit: '1' });
    const answer = await read.get(`/internal/clients?${query}`, { 'cache-control': 'no-cache' });
    if (answer.status !== 200) continue;
    const body = JSON.parse(answer.body.toString()) as { data: Array<{ id: string }> };
    if (body.data[0]) return body.data[0].id;
  }
  return undefined;
}
