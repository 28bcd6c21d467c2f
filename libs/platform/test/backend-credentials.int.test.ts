import { afterEach, describe, expect, it } from 'vitest';
import { kafkaRequiresCredentials, testStack, uniqueId } from '@trackme/testkit';
import { createKafka, createLogger, createRedis, kafkaConnectionFromEnv, type KafkaConnection, type RedisConnection } from '../src/index.js';

/**
 * The stack started for the tests (`stack.sh up test`) asks for credentials like a deployment:
 * SASL/SCRAM-SHA-512 for Kafka, an ACL user and password for Redis. A stack given by the
 * environment is taken as it is: what it must refuse follows from the credentials it was given
 * with (none given: it is open, and an anonymous client is expected to get in).
 */
const stack = testStack();
const kafkaSecured = kafkaRequiresCredentials(stack);
const redisSecured = new URL(stack.REDIS_URL).password !== '';
const startedForTheTests = process.env['TEST_STACK_SOURCE'] === 'profile';

/** Connects once (no retries) and lists the topics: 'accepted', or the broker's refusal. */
async function kafkaOutcome(connection: KafkaConnection): Promise<{ outcome: 'accepted' | 'refused'; error?: string }> {
  const admin = createKafka({ ...connection, clientId: uniqueId('credentials-probe-') }, createLogger('test', 'silent'), {
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return { outcome: 'accepted' };
  } catch (error) {
    return { outcome: 'refused', error: `${(error as Error).name}: ${(error as Error).message}` };
  } finally {
    await admin.disconnect();
  }
}

const configured = () => kafkaConnectionFromEnv(stack);
const withoutCredentials = (): KafkaConnection => {
  const { sasl: _sasl, ...rest } = configured();
  return rest;
};
const withWrongPassword = (): KafkaConnection => ({
  ...configured(),
  sasl: { mechanism: 'scram-sha-512', username: 'trackme', password: 'not-the-password' },
});

describe('Kafka credentials', () => {
  it('a client with the configured settings is let in and sees the declared topics', async () => {
    expect(await kafkaOutcome(configured())).toEqual({ outcome: 'accepted' });
  });

  it('a client without credentials is refused by a Kafka that asks for them', async () => {
    if (startedForTheTests) expect(kafkaSecured).toBe(true);
    const { outcome, error } = await kafkaOutcome(withoutCredentials());
    expect(outcome).toBe(kafkaSecured ? 'refused' : 'accepted');
    // the SASL listener drops a connection that skips the handshake
    if (kafkaSecured) expect(error).toMatch(/closed connection/i);
  });

  it('a client with a wrong password is refused', async () => {
    const { outcome, error } = await kafkaOutcome(withWrongPassword());
    expect(outcome).toBe('refused');
    // a SASL listener checks the password; an open listener does not speak SASL at all
    expect(error).toMatch(kafkaSecured ? /SASL.*authentication failed/i : /SASL state/);
  });
});

describe('Redis credentials', () => {
  const opened: RedisConnection[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((redis) => redis.close()));
  });

  /** 'ready' once the server accepted the connection (AUTH included), or the server's first error. */
  async function redisOutcome(url: string): Promise<string> {
    const redis = createRedis(url, uniqueId('credentials-probe-'));
    opened.push(redis);
    return new Promise<string>((resolve) => {
      redis.client.once('ready', () => resolve('ready'));
      redis.client.once('error', (error: Error) => resolve(error.message));
    });
  }

  /** The stack's URL with another password, or none; an open Redis has no user to guess, so one is made up. */
  const withPassword = (password: string | undefined) => {
    const url = new URL(stack.REDIS_URL);
    url.username = password === undefined ? '' : url.username || 'trackme';
    url.password = password ?? '';
    return url.toString();
  };

  it('a client with the configured URL is let in and answers PING', async () => {
    expect(await redisOutcome(stack.REDIS_URL)).toBe('ready');
  });

  it('a client without a password is refused by a Redis that asks for one', async () => {
    if (startedForTheTests) expect(redisSecured).toBe(true);
    const outcome = await redisOutcome(withPassword(undefined));
    if (redisSecured) expect(outcome).toMatch(/NOAUTH/);
    else expect(outcome).toBe('ready');
  });

  it('a client with a wrong password is refused', async () => {
    expect(await redisOutcome(withPassword('not-the-password'))).toMatch(/WRONGPASS/);
  });
});
