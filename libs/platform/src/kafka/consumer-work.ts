import { PoisonMessageError } from '../errors.js';
import type { Handling, InboundMessage, Parse, Parsed, ParsedBatchHandler } from './consumer-options.js';
import { rejectedOf, type Rejected } from './rejections.js';

/** A run of messages, each parsed once, whatever happens to the run afterwards. */
export interface ParsedRun {
  /** the messages parse rejected, in partition order */
  rejected: Rejected[];
  /** the batch handler on the messages parse accepted (not called when there are none); answers what it rejected */
  handle: () => Promise<Rejected[]>;
  /** each message on its own, in order, for a run that failed as a whole: one parse rejected is only dead-lettered */
  alone: Array<{ message: InboundMessage; handle: () => Promise<Rejected[]> }>;
}

/** What the consumer runs, whatever its handlers' parsed type (it stays inside these closures). */
export interface ConsumerWork {
  /** one message, parsed and handled: a message parse rejects throws its PoisonMessageError; answers what the handler rejected */
  one: (message: InboundMessage) => Promise<Rejected[]>;
  /** a run for a batch handler; undefined when messages are handled one at a time */
  run: ((messages: InboundMessage[]) => ParsedRun) | undefined;
}

/** The consumer's work for its options: raw handlers are parsed handlers whose parse keeps the message. */
export function consumerWork<T>(handling: Handling<T>): ConsumerWork {
  if (handling.parse === undefined) {
    if (handling.handler === undefined) {
      const batchHandler = handling.batchHandler;
      return batchWork((message) => message, (items) => batchHandler(items.map((item) => item.message)));
    }
    const handler = handling.handler;
    return { one: async (message) => handler(message).then(() => []), run: undefined };
  }
  if (handling.handler === undefined) return batchWork(handling.parse, handling.batchHandler);
  const { parse, handler } = handling;
  return { one: async (message) => handler({ message, value: parse(message) }).then(() => []), run: undefined };
}

function batchWork<T>(parse: Parse<T>, handler: ParsedBatchHandler<T>): ConsumerWork {
  return {
    one: async (message) => handler([{ message, value: parse(message) }]),
    run: (messages) => {
      const outcomes = messages.map((message) => parseOrReject(parse, message));
      const { parsed, rejected } = split(outcomes);
      return {
        rejected,
        handle: async () => (parsed.length > 0 ? handler(parsed) : []),
        alone: outcomes.map((outcome) => ({
          message: outcome.message,
          handle: isRejected(outcome) ? async () => [outcome] : () => handler([outcome]),
        })),
      };
    },
  };
}

/**
 * Each message read by `parse`, in order, as the consumer reads a run: the values for the batch
 * handler, and the dead-letter entries of the messages it rejected with PoisonMessageError.
 */
export function parseEach<T>(parse: Parse<T>, messages: InboundMessage[]): { parsed: Parsed<T>[]; rejected: Rejected[] } {
  return split(messages.map((message) => parseOrReject(parse, message)));
}

function split<T>(outcomes: Array<Parsed<T> | Rejected>): { parsed: Parsed<T>[]; rejected: Rejected[] } {
  return { parsed: outcomes.filter(isParsed), rejected: outcomes.filter(isRejected) };
}

function parseOrReject<T>(parse: Parse<T>, message: InboundMessage): Parsed<T> | Rejected {
  try {
    return { message, value: parse(message) };
  } catch (error) {
    if (!(error instanceof PoisonMessageError)) throw error;
    return rejectedOf(message, error);
  }
}

function isRejected<T>(outcome: Parsed<T> | Rejected): outcome is Rejected {
  return 'reason' in outcome;
}

function isParsed<T>(outcome: Parsed<T> | Rejected): outcome is Parsed<T> {
  return !isRejected(outcome);
}
