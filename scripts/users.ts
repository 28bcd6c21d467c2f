/**
 * Manages trackme users from the command line, e.g. the first super_user of a fresh system:
 *
 *   npm run users -- create --role super_user --email you@example.com [--name "Your Name"]
 *
 * The password is asked for (not echoed) on a terminal, or read from stdin when it is piped
 * (`printf '%s' "$PASSWORD" | npm run users -- create …`); never from the command line, where
 * other users of the machine and the shell history would see it. Uses MONGO_URL.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Type } from 'typebox';
import { AppError, createMongo, loadConfig, MongoConfig, ValidationError } from '@trackme/platform';
import { isRole } from '../services/gateway/src/auth/roles.js';
import { RefreshTokens } from '../services/gateway/src/users/refresh-tokens.js';
import { UserAdmin } from '../services/gateway/src/users/user-admin.js';
import { idOf, UserStore } from '../services/gateway/src/users/user-store.js';

const USAGE = 'usage: npm run users -- create --role super_user|admin|manager --email <email> [--name <name>]  (password: prompted, or on stdin)';

/** Reads a line from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { stdin, stdout } = process;
    stdout.write(question);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    let value = '';
    const finish = (outcome: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stdout.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish(() => resolve(value));
        if (char === '\u0003' || char === '\u0004') return finish(() => reject(new Error('cancelled')));
        value = char === '\u007f' || char === '\b' ? [...value].slice(0, -1).join('') : value + char;
      }
    };
    stdin.on('data', onData);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // one trailing newline is the shell's, not the password's
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function passwordFromUser(): Promise<string> {
  if (!process.stdin.isTTY) return readStdin();
  const first = await askHidden('password: ');
  if ((await askHidden('again: ')) !== first) throw new ValidationError('the passwords differ', [{ field: 'password', message: 'the two entries differ' }]);
  return first;
}

if (existsSync('.env')) process.loadEnvFile('.env');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { role: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } } });
const problems = [
  ...(positionals[0] === 'create' && positionals.length === 1 ? [] : ['the command is create']),
  ...(isRole(values.role) ? [] : ['--role must be super_user, admin or manager']),
  ...(values.email && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email) && values.email.length <= 254 ? [] : ['--email must be an email address']),
  ...(values.name === undefined || (values.name.trim().length > 0 && values.name.length <= 200) ? [] : ['--name must be 1 to 200 characters']),
];
if (problems.length > 0) {
  console.error(`${problems.join('\n')}\n${USAGE}`);
  process.exit(2);
}

const config = loadConfig('users', Type.Object(MongoConfig));
const mongo = createMongo(config.MONGO_URL, 'trackme-users-cli');
try {
  const email = values.email!;
  const users = new UserStore(mongo.db);
  const admin = new UserAdmin(users, new RefreshTokens(mongo.db, 0));
  const password = await passwordFromUser();
  const user = await admin.create({ name: values.name ?? email.split('@')[0]!, email, password, role: isRole(values.role) ? values.role : 'manager' }, 'super_user');
  console.log(`created ${user.role} ${idOf(user)} (${user.email})`);
} catch (error) {
  if (!(error instanceof AppError)) throw error;
  const fields = error instanceof ValidationError ? error.errors.map((e) => `\n  ${e.field}: ${e.message}`).join('') : '';
  console.error(`${error.message}${fields}`);
  process.exitCode = error instanceof ValidationError ? 2 : 1;
} finally {
  await mongo.close();
}
