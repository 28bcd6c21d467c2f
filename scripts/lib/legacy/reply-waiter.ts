import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { COMMAND_REPLY_SCHEMAS, Topics, type CommandReply } from '@trackme/contracts';
import { MessageConsumer, parseMessage, PoisonMessageError, type InboundMessage, type Logger, type MessageProducer } from '@trackme/platform';

/**
 * Waits for the replies to commands this process published, reading trackme.command-replies
 * with a group of its own from the moment it joined (like a gateway instance does).
 */
export class ReplyWaiter {
  private readonly waiters = new Map<string, (reply: CommandReply) => void>();
  private readonly consumer: MessageConsumer;

  constructor(kafka: Kafka, producer: MessageProducer, logger: Logger, topicPrefix: string) {
    this.consumer = new MessageConsumer(kafka, {
      groupId: `trackme-import-legacy-${randomUUID()}`,
      topics: [Topics.commandReplies],
      fromBeginning: false,
      handler: async (message) => this.onReply(message),
      producer,
      logger,
      topicPrefix,
      partitionsConsumedConcurrently: 6,
    });
  }

  /** Resolves once the group assigned the reply partitions, so no reply published after it is missed. */
  async start(timeoutMs = 60_000): Promise<void> {
    await this.consumer.start();
    const deadline = Date.now() + timeoutMs;
    while (!this.consumer.isRunning) {
      if (Date.now() > deadline) throw new Error(`not assigned the reply partitions within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  /** The reply to `commandId`, or null after `timeoutMs`. Register before publishing the command. */
  expect(commandId: string, timeoutMs: number): Promise<CommandReply | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(commandId);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(commandId, (reply) => {
        clearTimeout(timer);
        this.waiters.delete(commandId);
        resolve(reply);
      });
    });
  }

  private onReply(message: InboundMessage): void {
    if (this.waiters.size === 0) return;
    try {
      const { data } = parseMessage(message, COMMAND_REPLY_SCHEMAS, { kind: 'reply' });
      this.waiters.get(data.command_id)?.(data);
    } catch (error) {
      // a message that is not a reply is none of this reader's business; anything else is a bug
      if (!(error instanceof PoisonMessageError)) throw error;
    }
  }
}
