import type { Redis } from 'ioredis';

/** What a finished command answered: replayed for idempotent retries and shown by /operations. */
export interface StoredResponse {
  status: number;
  body?: unknown;
}

export interface OperationRecord {
  id: string;
  state: 'pending' | 'completed';
  client_id: string;
  result?: StoredResponse;
  /** the idempotency record to complete together with the operation */
  idempotency_key?: string;
}

export type IdempotencyRecord =
  | { state: 'in_flight'; fingerprint: string }
  | { state: 'done'; fingerprint: string; response: StoredResponse };

export type IdempotencyStart =
  | { kind: 'started' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' };

const OPERATION_PREFIX = 'trackme:gateway:operation:';
const IDEMPOTENCY_PREFIX = 'trackme:gateway:idempotency:';

/**
 * Redis records of the gateway: operations answered 202, and Idempotency-Key outcomes
 * (IETF httpapi idempotency draft). Shared by every gateway instance.
 */
export class OperationStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  /** Claims an idempotency key for a request fingerprint, or says why it cannot run again. */
  async begin(key: string, fingerprint: string): Promise<IdempotencyStart> {
    const redisKey = IDEMPOTENCY_PREFIX + key;
    const record: IdempotencyRecord = { state: 'in_flight', fingerprint };
    const claimed = await this.redis.set(redisKey, JSON.stringify(record), 'EX', this.ttlSeconds, 'NX');
    if (claimed === 'OK') return { kind: 'started' };
    const existing = await this.redis.get(redisKey);
    if (!existing) return this.begin(key, fingerprint);
    const stored = JSON.parse(existing) as IdempotencyRecord;
    if (stored.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return stored.state === 'done' ? { kind: 'replay', response: stored.response } : { kind: 'in_flight' };
  }

  async complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const record: IdempotencyRecord = { state: 'done', fingerprint, response };
    await this.redis.set(IDEMPOTENCY_PREFIX + key, JSON.stringify(record), 'EX', this.ttlSeconds);
  }

  /** Frees a key whose request never reached Kafka, so a retry can run. */
  async abandon(key: string): Promise<void> {
    await this.redis.del(IDEMPOTENCY_PREFIX + key);
  }

  async recordPending(operation: OperationRecord): Promise<void> {
    await this.redis.set(OPERATION_PREFIX + operation.id, JSON.stringify(operation), 'EX', this.ttlSeconds, 'NX');
  }

  /**
   * Stores a reply for an operation. `onlyIfPending` (other gateway instances) writes only when
   * the operation was recorded; the instance that answered 202 writes unconditionally.
   */
  async recordResult(id: string, clientId: string, result: StoredResponse, onlyIfPending: boolean): Promise<void> {
    const key = OPERATION_PREFIX + id;
    const existing = await this.redis.get(key);
    if (!existing && onlyIfPending) return;
    const previous = existing ? (JSON.parse(existing) as OperationRecord) : undefined;
    const record: OperationRecord = { ...previous, id, client_id: clientId, state: 'completed', result };
    await this.redis.set(key, JSON.stringify(record), 'EX', this.ttlSeconds);
    const idempotency = previous?.idempotency_key;
    if (idempotency) {
      const current = await this.redis.get(IDEMPOTENCY_PREFIX + idempotency);
      const fingerprint = current ? (JSON.parse(current) as IdempotencyRecord).fingerprint : undefined;
      if (fingerprint) await this.complete(idempotency, fingerprint, result);
    }
  }

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    const value = await this.redis.get(OPERATION_PREFIX + id);
    return value ? (JSON.parse(value) as OperationRecord) : undefined;
  }
}
