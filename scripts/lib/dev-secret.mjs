// Development secrets: JWT_SECRET / INTERNAL_TOKEN / AUTH_SIGNING_KEY when set, otherwise random ones
// generated once into the git-ignored .local/ folder, so `npm start` and `npm run token` agree without
// a secret in git.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/** A random secret kept in `.local/<name>` (created on first use, readable by this user only). */
function localSecret(name, generate = () => randomBytes(32).toString('base64url')) {
  const file = `.local/${name}`;
  if (!existsSync(file)) {
    mkdirSync('.local', { recursive: true });
    writeFileSync(file, generate(), { mode: 0o600 });
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

/** The Ed25519 private key (PKCS#8 PEM) the gateway signs sign-in tokens with. */
export function devSigningKey(env = process.env) {
  return env.AUTH_SIGNING_KEY || localSecret('auth-signing-key.pem', () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
}
