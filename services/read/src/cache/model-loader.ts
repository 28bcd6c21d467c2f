import type { Logger } from '@trackme/platform';
import type { ClientSource } from '../clients/client-source.js';
import type { ReadCache } from './read-cache.js';

export interface ModelLoaderOptions {
  /** how often to check that the model is loaded */
  checkEveryMs?: number;
  batchSize?: number;
  lockTtlMs?: number;
  /** a loaded model is copied again this often, correcting anything an event could not (0: never) */
  reloadEveryMs?: number;
}

/**
 * Keeps the client model in Redis loaded: whenever it is not (first start, Redis restarted or
 * lost its data), one replica (Redis lock) copies every client from Mongo, batch by batch, while
 * change events keep applying. Versions make the order irrelevant, so the model is complete and
 * current once the copy ends; only then are lists answered from it. A periodic reload is the
 * model's backstop (as the TTL is for pages): if events ever stopped reaching it, it is at most
 * that old.
 */
export class ModelLoader {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly checkEveryMs: number;
  private readonly batchSize: number;
  private readonly lockTtlMs: number;
  private readonly reloadEveryMs: number;

  constructor(
    private readonly cache: ReadCache,
    private readonly source: ClientSource,
    private readonly logger: Logger,
    options: ModelLoaderOptions = {},
  ) {
    this.checkEveryMs = options.checkEveryMs ?? 5_000;
    this.batchSize = options.batchSize ?? 500;
    this.lockTtlMs = options.lockTtlMs ?? 30_000;
    this.reloadEveryMs = options.reloadEveryMs ?? 0;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.ensureLoaded(), this.checkEveryMs);
    this.timer.unref();
    void this.ensureLoaded();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Loads the model unless it is loaded or another replica is loading it. Never throws. */
  ensureLoaded(): Promise<void> {
    this.running ??= this.loadIfNeeded()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not load the client cache; lists are read from Mongo meanwhile'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async loadIfNeeded(): Promise<void> {
    const loadedAt = await this.cache.loadedAt();
    if (loadedAt !== null && (this.reloadEveryMs === 0 || Date.now() - loadedAt < this.reloadEveryMs)) return;
    const token = await this.cache.lock(this.lockTtlMs);
    if (!token) return;
    try {
      // a model being reloaded stays in use: the copy only ever applies newer versions
      const startedAt = Date.now();
      const started = performance.now();
      let count = 0;
      for await (const batch of this.source.scan(this.batchSize)) {
        if (!(await this.cache.extendLock(token, this.lockTtlMs))) throw new Error('lost the load lock');
        await this.cache.applyMany(batch);
        count += batch.length;
      }
      await this.cache.markReady(startedAt);
      this.logger.info({ clients: count, ms: Math.round(performance.now() - started), reload: loadedAt !== null }, 'client cache loaded from Mongo');
    } finally {
      await this.cache.unlock(token).catch(() => undefined);
    }
  }
}
