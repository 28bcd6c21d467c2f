import type { Logger } from '../logging/logger.js';
import { retryUntilReady, type Lifecycle } from './lifecycle.js';

/**
 * Starts a dependency-bound component (producer connect, consumer start) in the background,
 * retrying with backoff until it works or shutdown begins. The process serves /readyz 503 meanwhile.
 */
export function startInBackground(name: string, start: () => Promise<void>, lifecycle: Lifecycle, logger: Logger): Promise<boolean> {
  return retryUntilReady(start, { name, logger, signal: lifecycle.signal });
}
