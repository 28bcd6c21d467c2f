import commonLists from '@zxcvbn-ts/language-common';
import type { FieldError } from '@trackme/contracts';

/** NIST SP 800-63B: at least 12 characters for a password chosen here (the older service took 6). */
export const PASSWORD_MIN_LENGTH = 12;
/**
 * The longest password taken, in UTF-8 bytes. Hashing cost grows with the input, and nobody types
 * more: a longer one is refused before it is hashed or even compared.
 */
export const PASSWORD_MAX_BYTES = 1_024;

/** The 49,000 most common passwords of the zxcvbn-ts list, lower-cased once at start. */
let common: ReadonlySet<string> | undefined;
const commonPasswords = (): ReadonlySet<string> => (common ??= new Set(commonLists.dictionary['passwords-common'].map((p) => p.toLowerCase())));

/** A password that is one short unit over and over (`aaaaaaaaaaaa`, `abcabcabcabc`, `121212121212`). */
function isRepetition(password: string): boolean {
  return /^(.{1,4})\1+$/su.test(password);
}

/** Every reason `password` may not be chosen, as problems of `field`; none when it may. */
export function passwordProblems(password: string, context: { email?: string; name?: string } = {}, field = 'password'): FieldError[] {
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) return [{ field, message: `must be at most ${PASSWORD_MAX_BYTES} bytes` }];
  if ([...password].length < PASSWORD_MIN_LENGTH) return [{ field, message: `must be at least ${PASSWORD_MIN_LENGTH} characters` }];
  const folded = password.normalize('NFKC').toLowerCase();
  // a common password with digits or symbols appended ("password1234!") is as guessable as the list's entry
  const stem = folded.replace(/[\d\W_]+$/u, '');
  if (commonPasswords().has(folded) || (stem.length >= 6 && commonPasswords().has(stem))) return [{ field, message: 'is one of the most common passwords' }];
  if (isRepetition(folded)) return [{ field, message: 'is a repetition of a few characters' }];
  const local = context.email?.split('@')[0]?.toLowerCase();
  const name = context.name?.toLowerCase().replace(/\s+/g, '');
  if ((local && local.length >= 4 && folded.includes(local)) || (name && name.length >= 4 && folded.includes(name))) {
    return [{ field, message: "may not contain the user's name or email" }];
  }
  return [];
}
