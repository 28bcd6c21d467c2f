/**
 * Mints a development bearer token, signed HS256 with the configured JWT_SECRET (or the one
 * `npm start` generated into .local/), and prints it.
 *
 *   npm run token -- --role admin --ttl 15m [--subject dev]
 *
 * Roles: super_user, admin (reads, writes, triggers metrics), manager (reads). TTL: <n>s|m|h|d,
 * at most 24h. Honours JWT_ISSUER and JWT_AUDIENCE like the gateway. For production, tokens come
 * from your identity provider (JWKS_URL), not from this command.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
// @ts-expect-error a plain ES module shared with scripts/start.mjs
import { devJwtSecret } from './lib/dev-secret.mjs';

const ROLES = ['super_user', 'admin', 'manager'];
const USAGE = 'usage: npm run token -- --role super_user|admin|manager [--ttl 15m] [--subject dev]';
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

if (existsSync('.env')) process.loadEnvFile('.env');
const { values } = parseArgs({ options: { role: { type: 'string' }, ttl: { type: 'string', default: '15m' }, subject: { type: 'string', default: 'dev' } } });
const ttl = /^(\d+)([smhd])$/.exec(values.ttl);
const seconds = ttl ? Number(ttl[1]) * UNITS[ttl[2]!]! : NaN;
const problems = [
  ...(values.role && ROLES.includes(values.role) ? [] : [`--role must be one of ${ROLES.join(', ')}`]),
  ...(seconds > 0 && seconds <= 86_400 ? [] : ['--ttl must be like 30s, 15m, 8h or 1d (at most 24h)']),
];
if (problems.length > 0) {
  console.error(`${problems.join('\n')}\n${USAGE}`);
  process.exit(2);
}
const secret = devJwtSecret() as string;
if (secret.length < 32) {
  console.error('JWT_SECRET must be at least 32 characters');
  process.exit(2);
}
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ role: values.role })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.subject!)
  .setIssuer(process.env['JWT_ISSUER'] ?? 'trackme')
  .setAudience(process.env['JWT_AUDIENCE'] ?? 'trackme-api')
  .setIssuedAt(now)
  .setExpirationTime(now + seconds)
  .sign(new TextEncoder().encode(secret));
console.log(token);
