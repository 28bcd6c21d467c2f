import { describe, expect, it } from 'vitest';
import bcrypt from 'bcryptjs';
import { hash } from '@node-rs/argon2';
import { dummyHash, hashPassword, needsRehash, passwordMatches } from '../../src/users/password-hasher.js';
import { PASSWORD_MAX_BYTES, passwordProblems } from '../../src/users/password-policy.js';

describe('the password policy', () => {
  it('takes a long, uncommon password', () => {
    expect(passwordProblems('violet-harbour-lantern')).toEqual([]);
    expect(passwordProblems('Ünïcødé-Päßwört')).toEqual([]);
  });

  it.each([
    ['eleven char', 'must be at least 12 characters'],
    ['qwerty123456', 'is one of the most common passwords'],
    ['QAZWSXEDCRFV', 'is one of the most common passwords'],
    ['password1234!', 'is one of the most common passwords'],
    ['aaaaaaaaaaaaaaaa', 'is a repetition of a few characters'],
    ['abcdabcdabcdabcd', 'is a repetition of a few characters'],
  ])('refuses %j: %s', (password, message) => {
    expect(passwordProblems(password)).toEqual([{ field: 'password', message }]);
  });

  it('counts characters, not bytes, for the minimum', () => {
    // 12 characters of 4 bytes each
    expect(passwordProblems('😀😁😂🤣😃😄😅😆😉😊😋😎')).toEqual([]);
    expect(passwordProblems('😀😁😂🤣😃😄😅😆😉😊😋')).toEqual([{ field: 'password', message: 'must be at least 12 characters' }]);
  });

  it(`refuses more than ${PASSWORD_MAX_BYTES} bytes, and a 1 MB password at once`, () => {
    expect(passwordProblems('x'.repeat(PASSWORD_MAX_BYTES - 3) + 'yz!')).toEqual([]);
    expect(passwordProblems('é'.repeat(PASSWORD_MAX_BYTES / 2 + 1))).toEqual([{ field: 'password', message: `must be at most ${PASSWORD_MAX_BYTES} bytes` }]);
    expect(passwordProblems('x'.repeat(1_048_576))).toEqual([{ field: 'password', message: `must be at most ${PASSWORD_MAX_BYTES} bytes` }]);
  });

  it("refuses the user's own name or email in the password", () => {
    expect(passwordProblems('ann.lee-rocks-2024', { email: 'ann.lee@example.com' })).toEqual([{ field: 'password', message: "may not contain the user's name or email" }]);
    expect(passwordProblems('xx-MargaretHamilton-xx', { name: 'Margaret Hamilton' })).toHaveLength(1);
  });
});

describe('password hashes', () => {
  it('are argon2id at 19 MiB, 2 passes, 1 lane, salted, and match only their password', async () => {
    const first = await hashPassword('violet-harbour-lantern');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hashPassword('violet-harbour-lantern')).not.toBe(first);
    expect(await passwordMatches(first, 'violet-harbour-lantern')).toBe(true);
    expect(await passwordMatches(first, 'violet-harbour-lanterN')).toBe(false);
    expect(needsRehash(first)).toBe(false);
  });

  it("verify the older service's bcrypt hashes ($2a$10$) and ask for a rehash", async () => {
    const older = bcrypt.hashSync('older-six', 10).replace(/^\$2b\$/, '$2a$');
    expect(older).toMatch(/^\$2a\$10\$/);
    expect(await passwordMatches(older, 'older-six')).toBe(true);
    expect(await passwordMatches(older, 'older-sixx')).toBe(false);
    expect(needsRehash(older)).toBe(true);
  });

  it('ask for a rehash at another argon2 cost, and never match a stored value that is not a hash', async () => {
    expect(needsRehash(await hash('violet-harbour-lantern', { algorithm: 2, memoryCost: 8192, timeCost: 3, parallelism: 1 }))).toBe(true);
    expect(needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
    expect(await passwordMatches('', '')).toBe(false);
    expect(await passwordMatches('plain-text-password', 'plain-text-password')).toBe(false);
  });

  it('have a stand-in for unknown emails that costs what a real one does and matches nothing', async () => {
    const stand = await dummyHash();
    expect(stand).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await passwordMatches(stand, '')).toBe(false);
  });
});
