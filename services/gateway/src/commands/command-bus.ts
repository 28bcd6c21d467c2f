import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { COMMAND_REPLY_SCHEMAS, Topics, type CommandReply, type CommandReplyMessage } from '@trackme/contracts';
import {
  DependencyUnavailableError,
  parseMessage,
  PoisonMessageError,
  type InboundMessage,
  type KafkaSetup,
  type Logger,
  type MessageConsumer,
  type MessageProducer,
} from '@trackme/platform';
import { responseOf } from './command-response.js';
import type { OperationRecord, OperationStore } from './operation-store.js';

export type SendOutcome = { kind: 'reply'; reply: CommandReply } | { kind: 'timeout' };

interface Waiter {
  resolve: (reply: CommandReply) => void;
}

/** Remembered ids of commands this instance answered 202 for (bounded; oldest forgotten first). */
const TIMED_OUT_REMEMBERED = 10_000;

/**
 * Request/reply over Kafka: publishes a command keyed by client id and waits for its reply on
 * trackme.command-replies, which every gateway instance reads with a group of its own.
 */
export class CommandBus {
  private readonly waiters = new Map<string, Waiter>();
  private readonly timedOut = new Set<string>();
  private readonly producer: MessageProducer;
  private readonly replies: MessageConsumer;
  private readonly outcomes: Counter<'outcome'>;

  /** The reply consumer is made on `kafka`, which starts it with the service and stops it on shutdown. */
  constructor(
    kafka: KafkaSetup,
    private readonly operations: OperationStore,
    private readonly logger: Logger,
    options: { registry: Registry; instanceId?: string },
  ) {
    this.producer = kafka.producer;
    this.replies = kafka.consumer('reply consumer', {
      // own group per instance: every instance sees every reply and picks its own
      groupId: `trackme-gateway-${options.instanceId ?? randomUUID()}`,
      topics: [Topics.commandReplies],
      fromBeginning: false,
      handler: (message) => this.onReply(message),
      partitionsConsumedConcurrently: 6,
    });
    this.outcomes = new Counter({
      name: 'trackme_gateway_commands_total',
      help: 'Commands sent, by outcome (reply, timeout)',
      labelNames: ['outcome'],
      registers: [options.registry],
    });
  }

  get isReady(): boolean {
    return this.producer.isConnected && this.replies.isRunning;
  }

  /**
   * Publishes and waits up to `timeoutMs` for the reply. On timeout the operation is recorded so
   * GET /operations/{id} can report the result later; the command itself is never withdrawn.
   */
  async send(
    type: string,
    clientId: string,
    data: unknown,
    commandId: string,
    timeoutMs: number,
    idempotencyKey?: string,
  ): Promise<SendOutcome> {
    if (!this.isReady) throw new DependencyUnavailableError('the command bus is not connected to Kafka');
    const replied = new Promise<CommandReply>((resolve) => this.waiters.set(commandId, { resolve }));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const published = this.producer.publish(Topics.clientCommands, clientId, { id: commandId, type, data });
      const first = await Promise.race([published.then(() => replied), deadline]);
      if (first === 'timeout') {
        this.rememberTimedOut(commandId);
        await this.operations
          .recordPending({
            id: commandId,
            state: 'pending',
            client_id: clientId,
            ...(idempotencyKey ? { idempotency_key: idempotencyKey } : {}),
            command: { type, client_id: clientId, data },
          })
          // the command is on its way either way; without Redis only its operation record is missing
          .catch((error: unknown) => this.logger.warn({ err: error, command_id: commandId }, 'could not record the pending operation'));
        this.outcomes.inc({ outcome: 'timeout' });
        return { kind: 'timeout' };
      }
      this.outcomes.inc({ outcome: 'reply' });
      return { kind: 'reply', reply: first };
    } finally {
      clearTimeout(timer);
      this.waiters.delete(commandId);
    }
  }

  /**
   * Sends a pending operation's command again under its id (the clients service answers a command
   * it already applied with the outcome it had), at most once per `timeoutMs` across gateways. The
   * gateway that answered 202 may have died before the reply came, and no one else records it.
   */
  async resend(operation: OperationRecord, timeoutMs: number): Promise<void> {
    const { command } = operation;
    if (operation.state !== 'pending' || !command || !this.isReady) return;
    if (!(await this.operations.claimResend(operation.id, timeoutMs))) return;
    const outcome = await this.send(command.type, command.client_id, command.data, operation.id, timeoutMs, operation.idempotency_key);
    if (outcome.kind === 'reply') await this.operations.recordResult(operation.id, command.client_id, responseOf(outcome.reply), false);
  }

  private rememberTimedOut(commandId: string): void {
    this.timedOut.add(commandId);
    if (this.timedOut.size > TIMED_OUT_REMEMBERED) this.timedOut.delete(this.timedOut.values().next().value!);
  }

  private async onReply(message: InboundMessage): Promise<void> {
    let envelope: CommandReplyMessage;
    try {
      envelope = parseMessage(message, COMMAND_REPLY_SCHEMAS, { kind: 'reply' });
    } catch (error) {
      // the topic is the clients service's answer to this gateway: nothing to dead-letter or retry
      if (!(error instanceof PoisonMessageError)) throw error;
      this.logger.warn({ offset: message.offset, reason: error.reason, errors: error.details?.['errors'] }, 'ignoring a message that is not a command reply');
      return;
    }
    const reply = envelope.data;
    const waiter = this.waiters.get(reply.command_id);
    if (waiter) {
      waiter.resolve(reply);
      return;
    }
    const mine = this.timedOut.delete(reply.command_id);
    await this.operations.recordResult(reply.command_id, reply.client_id, responseOf(reply), !mine);
  }
}
