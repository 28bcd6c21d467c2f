import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';

type Closer = { name: string; close: () => Promise<void> | void };

/**
 * Owns the order of shutdown. Resources register as they are created; on stop they close in
 * reverse order, which for a composition root written top-down is exactly
 * "stop consuming → drain in-flight → close producers → close DB/cache".
 */
export class Lifecycle {
  private readonly closers: Closer[] = [];
  private stopping: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly logger: Logger, private readonly timeoutMs: number) {}

  /** Aborted when shutdown starts: background loops (retries, schedulers) watch it. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  onStop(name: string, close: () => Promise<void> | void): void {
    this.closers.push({ name, close });
  }

  stop(reason: string): Promise<void> {
    this.stopping ??= this.runClosers(reason);
    return this.stopping;
  }

  /**
   * SIGTERM/SIGINT stop the service cleanly; a second signal or the timeout forces the exit. An
   * uncaught exception stops it the same way (exit 1): consumers leave their groups, so their
   * partitions move at once instead of after the session timeout.
   */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const stopThenExit = (reason: string, code: number) => {
      if (this.stopping) {
        this.logger.warn({ reason }, 'second signal; exiting now');
        exit(1);
        return;
      }
      const timer = setTimeout(() => {
        this.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown timed out; exiting');
        exit(1);
      }, this.timeoutMs);
      timer.unref();
      void this.stop(reason).then(
        () => exit(code),
        () => exit(1),
      );
    };
    process.on('SIGTERM', (signal) => stopThenExit(signal, 0));
    process.on('SIGINT', (signal) => stopThenExit(signal, 0));
    process.on('uncaughtException', (error) => {
      this.logger.fatal({ err: error }, 'uncaught exception; stopping');
      stopThenExit('uncaught exception', 1);
    });
  }

  private async runClosers(reason: string): Promise<void> {
    this.logger.info({ reason }, 'shutting down');
    this.abort.abort();
    let failed = false;
    for (const { name, close } of [...this.closers].reverse()) {
      try {
        await close();
        this.logger.debug({ resource: name }, 'closed');
      } catch (error) {
        failed = true;
        this.logger.error({ err: error, resource: name }, 'failed to close');
      }
    }
    this.logger.info('stopped');
    if (failed) throw new Error('some resources failed to close');
  }
}

export interface RetryOptions {
  name: string;
  logger: Logger;
  signal: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `attempt` until it succeeds or the signal aborts, with capped exponential backoff. Used to
 * bring up dependencies that may be down at start without crashing the process.
 */
export async function retryUntilReady(attempt: () => Promise<void>, options: RetryOptions): Promise<boolean> {
  const { name, logger, signal, initialDelayMs = 250, maxDelayMs = 10_000 } = options;
  for (let tries = 1; !signal.aborted; tries++) {
    try {
      await attempt();
      if (tries > 1) logger.info({ dependency: name, tries }, 'dependency ready');
      return true;
    } catch (error) {
      const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(tries - 1, 10));
      logger.warn({ dependency: name, err: error, retryInMs: delay }, 'dependency not ready; retrying');
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return false;
      }
    }
  }
  return false;
}
