import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { ConfigError, loadConfig, RedisConfig, redisOptionsOf } from '../src/index.js';
import { parseRedisUrl, redisAddressOptions } from '../src/storage/redis-address.js';

const Schema = Type.Object(RedisConfig);

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig('svc', Schema, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.variable}: ${p.message}`);
  }
}

describe('REDIS_URL with several hosts', () => {
  it('reads user, password, database, TLS and every host, IPv6 included', () => {
    expect(parseRedisUrl('rediss://trackme-read:p%40ss@s-1:26380,s-2,[fd00::7]:26381/2', 26379)).toEqual({
      tls: true,
      username: 'trackme-read',
      password: 'p@ss',
      db: 2,
      hosts: [
        { host: 's-1', port: 26380 },
        { host: 's-2', port: 26379 },
        { host: 'fd00::7', port: 26381 },
      ],
    });
  });

  it('names a malformed host without showing the password', () => {
    expect(() => parseRedisUrl('redis://:hunter2@s-1:26379,s 2:1')).toThrow('has a host that is not host[:port]: "s 2:1"');
    expect(() => parseRedisUrl('redis://:hunter2@s-1:99999')).toThrow(/has a host that is not host\[:port\]/);
    try {
      parseRedisUrl('redis://:hunter2@s-1:99999');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('Redis Sentinel by configuration', () => {
  const sentinels = 'redis://trackme-read:secret@sentinel-1:26379,sentinel-2:26379,sentinel-3/1';

  it('asks the listed Sentinels for the master, authenticating to the data nodes with the URL\'s user', () => {
    const config = loadConfig('svc', Schema, { REDIS_URL: sentinels, REDIS_SENTINEL_MASTER: 'mymaster', REDIS_SENTINEL_PASSWORD: 'sentinel-secret' });
    expect(redisAddressOptions(config.REDIS_URL, redisOptionsOf(config))).toEqual({
      name: 'mymaster',
      sentinels: [
        { host: 'sentinel-1', port: 26379 },
        { host: 'sentinel-2', port: 26379 },
        { host: 'sentinel-3', port: 26379 },
      ],
      sentinelPassword: 'sentinel-secret',
      username: 'trackme-read',
      password: 'secret',
      db: 1,
    });
  });

  it('turns TLS on for the Sentinels and the master with rediss://', () => {
    expect(redisAddressOptions('rediss://s-1:26379', { sentinelMaster: 'mymaster' })).toMatchObject({ enableTLSForSentinelMode: true });
  });

  it('leaves a single-node URL to the client, as before', () => {
    expect(redisAddressOptions('redis://cache:6379/0?family=6')).toEqual({});
    expect(problems({ REDIS_URL: 'rediss://user:pw@cache:6380' })).toEqual([]);
  });

  it('refuses at start-up a host list without REDIS_SENTINEL_MASTER, and a Sentinel password without it', () => {
    expect(problems({ REDIS_URL: sentinels, REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([
      'REDIS_URL: lists several hosts; set REDIS_SENTINEL_MASTER to connect through Sentinel',
      'REDIS_SENTINEL_PASSWORD: is set but REDIS_SENTINEL_MASTER is not',
    ]);
  });

  it('refuses a master name with characters Sentinel does not use, and a bad Sentinel host', () => {
    expect(problems({ REDIS_URL: 'redis://s-1:26379', REDIS_SENTINEL_MASTER: 'my master' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_MASTER: /)]);
    expect(problems({ REDIS_URL: 'redis://s-1:26379,:1', REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual([
      'REDIS_URL: has a host that is not host[:port]: ":1"',
    ]);
  });
});
