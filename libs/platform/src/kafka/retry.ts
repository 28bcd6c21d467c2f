import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyUnavailableError, PoisonMessageError } from '../errors.js';

export interface RetryPolicy {
  /** attempts for an unexpected error before giving up (a poison message gives up at once) */
  maxAttempts: number;
  retryBackoffMs: number;
  /** cap for the backoff while a dependency is down: those errors are retried for as long as it takes */
  maxBackoffMs: number;
  /** errors that mean "a dependency is down", besides DependencyUnavailableError */
  isTransient?: (error: unknown) => boolean;
  /** true once the consumer stops: what is not done stays uncommitted, to be redelivered */
  isStopping: () => boolean;
  /** keeps the group session alive while waiting */
  heartbeat: () => Promise<void>;
  /** told before each wait, to log it */
  onRetry: (error: unknown, retry: { transient: boolean; attempt: number; wait: number }) => void;
}

/** The consumer is stopping; the work stays uncommitted. */
export class StoppingError extends Error {}

/** The work failed for good: a poison message, or an unexpected error on every attempt. */
export class GaveUp extends Error {
  constructor(
    readonly error: unknown,
    readonly attempts: number,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The one retry loop of the consumer, for a message and for a run of messages alike: an
 * unavailable dependency is waited out with capped exponential backoff and never gives up; any
 * other error is retried `maxAttempts` times in all, then thrown as GaveUp.
 */
export async function retrying<T>(work: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let failures = 0;
  let transientFailures = 0;
  for (;;) {
    if (policy.isStopping()) throw new StoppingError('consumer is stopping; the messages stay uncommitted');
    try {
      return await work();
    } catch (error) {
      if (error instanceof DependencyUnavailableError || policy.isTransient?.(error)) {
        transientFailures += 1;
        const wait = Math.min(policy.maxBackoffMs, policy.retryBackoffMs * 2 ** Math.min(transientFailures, 10));
        policy.onRetry(error, { transient: true, attempt: transientFailures, wait });
        await sleep(wait);
        await policy.heartbeat();
        continue;
      }
      failures += 1;
      if (error instanceof PoisonMessageError || failures >= policy.maxAttempts) throw new GaveUp(error, failures);
      const wait = policy.retryBackoffMs * failures;
      policy.onRetry(error, { transient: false, attempt: failures, wait });
      await sleep(wait);
      await policy.heartbeat();
    }
  }
}
