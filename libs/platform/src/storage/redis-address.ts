import type { RedisOptions } from 'ioredis';

/** The parts of a REDIS_URL: one node, or (with REDIS_SENTINEL_MASTER) the Sentinels to ask. */
export interface RedisAddress {
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
  hosts: Array<{ host: string; port: number }>;
}

const DEFAULT_PORT = 6379;
const SENTINEL_PORT = 26379;
// scheme://[user[:password]@]host[:port][,host[:port]...][/db]; hosts may be [IPv6]
const URL_SHAPE = /^(rediss?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@?#]+?)(?:\/(\d*))?$/;
const HOST_SHAPE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/;

/**
 * Reads a REDIS_URL that may list several hosts, as Sentinel needs (the WHATWG URL parser takes
 * one). Throws an Error naming what is wrong, without the password.
 */
export function parseRedisUrl(url: string, defaultPort = DEFAULT_PORT): RedisAddress {
  const match = URL_SHAPE.exec(url);
  if (!match) throw new Error('is not redis[s]://[user:password@]host[:port][,host[:port]...][/db]');
  const [, scheme, user, password, hostList, db] = match;
  const hosts = hostList!.split(',').map((entry) => {
    const host = HOST_SHAPE.exec(entry.trim());
    const port = host?.[2] === undefined ? defaultPort : Number(host[2]);
    if (!host || port < 1 || port > 65_535) throw new Error(`has a host that is not host[:port]: ${JSON.stringify(entry)}`);
    return { host: host[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
  return {
    tls: scheme === 'rediss',
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    hosts,
  };
}

export interface RedisTopology {
  /** the master group Sentinel watches; when set, REDIS_URL lists the Sentinels */
  sentinelMaster?: string | undefined;
  /** the Sentinels' own password, when they ask for one */
  sentinelPassword?: string | undefined;
}

/**
 * ioredis options for REDIS_URL: a single node as the URL says, or the master that the listed
 * Sentinels name (ioredis follows a failover by asking them again). User, password, database and
 * TLS in the URL apply to the data nodes; TLS also to the Sentinels.
 */
export function redisAddressOptions(url: string, topology: RedisTopology = {}): RedisOptions {
  if (topology.sentinelMaster === undefined) {
    // a single node: ioredis reads the URL itself (query options included); only a list is wrong
    const hosts = url.replace(/^rediss?:\/\//, '').split(/[/?#]/)[0]!.split('@').pop()!;
    if (hosts.includes(',')) throw new Error('lists several hosts; set REDIS_SENTINEL_MASTER to connect through Sentinel');
    return {};
  }
  const address = parseRedisUrl(url, SENTINEL_PORT);
  return {
    name: topology.sentinelMaster,
    sentinels: address.hosts,
    ...(topology.sentinelPassword === undefined ? {} : { sentinelPassword: topology.sentinelPassword }),
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
    ...(address.db === undefined ? {} : { db: address.db }),
    ...(address.tls ? { enableTLSForSentinelMode: true } : {}),
  };
}
