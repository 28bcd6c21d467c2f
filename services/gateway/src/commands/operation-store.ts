import type { Redis } from 'ioredis';

/** What a finished command answered: replayed for idempotent retries and shown by /operations. */
export interface StoredResponse {
  status: number;
  body?: unknown;
}

/** A command as published, kept with its pending operation so any gateway can send it again. */
export interface SentCommand {
  type: string;
  client_id: string;
  data: unknown;
}

export interface OperationRecord {
  id: string;
  state: 'pending' | 'completed';
  client_id: string;
  result?: StoredResponse;
  /** the idempotency record to complete together with the operation */
  idempotency_key?: string;
  command?: SentCommand;
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
const RESEND_PREFIX = 'trackme:gateway:resend:';

/**
 * How long an in-flight Idempotency-Key stays claimed without its request renewing it. The
 * request renews it while it waits, so the claim outlives the request only this long after a
 * crash; a retry then claims the key and sends the command again under its derived id.
 */
export const IDEMPOTENCY_LEASE_MS = 3_000;

/** Extends the lease only while it is still this request's in-flight claim, never a completed record. */
const RENEW_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/**
 * Redis records of the gateway: operations answered 202, and Idempotency-Key outcomes
 * (IETF httpapi idempotency draft). Shared by every gateway instance.
 */
export class OperationStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly leaseMs = IDEMPOTENCY_LEASE_MS,
  ) {}

  /** Claims an idempotency key for a request fingerprint (a lease, see `keepClaimed`), or says why it cannot run again. */
  async begin(key: string, fingerprint: string): Promise<IdempotencyStart> {
    const redisKey = IDEMPOTENCY_PREFIX + key;
    const claimed = await this.redis.set(redisKey, inFlight(fingerprint), 'PX', this.leaseMs, 'NX');
    if (claimed === 'OK') return { kind: 'started' };
    const existing = await this.redis.get(redisKey);
    if (!existing) return this.begin(key, fingerprint);
    const stored = JSON.parse(existing) as IdempotencyRecord;
    if (stored.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return stored.state === 'done' ? { kind: 'replay', response: stored.response } : { kind: 'in_flight' };
  }

  /**
   * Renews the claim of `begin` while the request waits; returns the function that stops renewing.
   * A renewal that fails is only logged by the caller's next attempt: the lease then lapses and a
   * retry sends the command again, which the derived id makes harmless.
   */
  keepClaimed(key: string, fingerprint: string): () => void {
    const renew = () => void this.redis.eval(RENEW_LEASE, 1, IDEMPOTENCY_PREFIX + key, inFlight(fingerprint), String(this.leaseMs)).catch(() => undefined);
    const timer = setInterval(renew, Math.floor(this.leaseMs / 3));
    timer.unref();
    return () => clearInterval(timer);
  }

  /** True for the one caller that may send operation `id`'s command again during the next `windowMs`. */
  async claimResend(id: string, windowMs: number): Promise<boolean> {
    return (await this.redis.set(RESEND_PREFIX + id, '1', 'PX', windowMs, 'NX')) === 'OK';
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

function inFlight(fingerprint: string): string {
  const record: IdempotencyRecord = { state: 'in_flight', fingerprint };
  return JSON.stringify(record);
}
