import { SignJWT } from 'jose';
// @ts-expect-error a plain ES module shared with scripts/start.mjs
import { devJwtSecret } from '../../scripts/lib/dev-secret.mjs';

/**
 * `Authorization` of an admin for the benches: signed with the secret `npm start` gives the gateway
 * (JWT_SECRET, or the development one in .local/), valid for the length of a run.
 */
export async function adminAuthorization(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setIssuer(process.env['JWT_ISSUER'] ?? 'trackme')
    .setAudience(process.env['JWT_AUDIENCE'] ?? 'trackme-api')
    .setIssuedAt(now)
    .setExpirationTime(now + 4 * 3600)
    .sign(new TextEncoder().encode(devJwtSecret() as string));
  return `Bearer ${token}`;
}
