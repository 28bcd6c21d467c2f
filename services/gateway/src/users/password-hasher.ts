import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

/**
 * argon2id cost (OWASP's first recommended setting: 19 MiB, 2 passes, 1 lane): about 40 ms of
 * CPU per hash here, under the 100 ms a login may cost. Raising it rehashes each password at its
 * owner's next login.
 */
export const ARGON2_COST = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** `Algorithm.Argon2id` (a const enum the package declares but does not export at run time). */
const ARGON2ID = 2;

const BCRYPT_PREFIX = /^\$2[aby]\$\d{2}\$/;

export const hashPassword = (password: string): Promise<string> => hash(password, { ...ARGON2_COST, algorithm: ARGON2ID });

/** Whether `password` matches `stored`: an argon2id hash, or a bcrypt hash imported from the older service. */
export async function passwordMatches(stored: string, password: string): Promise<boolean> {
  if (BCRYPT_PREFIX.test(stored)) return bcrypt.compare(password, stored);
  try {
    return await verify(stored, password);
  } catch {
    // not a hash this service knows: no password matches it
    return false;
  }
}

/** A stored hash that is not argon2id at today's cost: replaced at the next successful login. */
export function needsRehash(stored: string): boolean {
  if (!stored.startsWith('$argon2id$')) return true;
  try {
    const options = parseOptions(stored);
    return options.memoryCost !== ARGON2_COST.memoryCost || options.timeCost !== ARGON2_COST.timeCost || options.parallelism !== ARGON2_COST.parallelism;
  } catch {
    return true;
  }
}

let dummy: Promise<string> | undefined;

/**
 * A hash of a random password at today's cost. A login with an unknown email is checked against
 * it, so it costs what a wrong password costs and the answer's timing does not tell them apart.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(24).toString('base64url'));
  return dummy;
}
