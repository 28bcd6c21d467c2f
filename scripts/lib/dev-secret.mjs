// The development token secret: JWT_SECRET when set, otherwise a random one generated once into
// the git-ignored .local/ folder, so `npm start` and `npm run token` agree without a secret in git.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

export const DEV_SECRET_FILE = '.local/jwt-secret';

export function devJwtSecret(env = process.env) {
  if (env.JWT_SECRET) return env.JWT_SECRET;
  if (!existsSync(DEV_SECRET_FILE)) {
    mkdirSync('.local', { recursive: true });
    writeFileSync(DEV_SECRET_FILE, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(DEV_SECRET_FILE, 'utf8').trim();
}
