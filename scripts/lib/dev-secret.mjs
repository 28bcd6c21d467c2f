// Development secrets: JWT_SECRET / INTERNAL_TOKEN when set, otherwise random ones generated once
// into the git-ignored .local/ folder, so `npm start` and `npm run token` agree without a secret in git.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/** A random secret kept in `.local/<name>` (created on first use, readable by this user only). */
function localSecret(name) {
  const file = `.local/${name}`;
  if (!existsSync(file)) {
    mkdirSync('.local', { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

export function devJwtSecret(env = process.env) {
  return env.JWT_SECRET || localSecret('jwt-secret');
}

/** The service token between the gateway and the internal APIs of read and metrics. */
export function devInternalToken(env = process.env) {
  return env.INTERNAL_TOKEN || localSecret('internal-token');
}
