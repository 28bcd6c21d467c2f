import type { Static, TObject } from 'typebox';
import { runService, type BaseConfig, type Compose, type RunningService } from '@trackme/platform';

export type InProcessService<C> = RunningService<C> & { stop(): Promise<void> };

/**
 * Runs a service's composition root inside the test process (same code path as main.ts, port 0,
 * no signal handlers), so integration tests exercise the real wiring against the real stack.
 */
export async function runInProcess<S extends TObject>(
  service: string,
  schema: S,
  compose: Compose<Static<S> & BaseConfig>,
  env: Record<string, string>,
): Promise<InProcessService<Static<S> & BaseConfig>> {
  const exits: number[] = [];
  const running = await runService(service, schema, compose, {
    env: { LOG_LEVEL: 'silent', PORT: '0', METRICS_PORT: '0', ...env },
    exit: (code) => void exits.push(code),
    installSignalHandlers: false,
  });
  if (!running) throw new Error(`${service} did not start (exit ${exits.join(',')})`);
  return { ...running, stop: () => running.context.lifecycle.stop('test finished') };
}
