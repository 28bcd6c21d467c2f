import { MongoBulkWriteError, MongoClient, MongoServerError, type Collection, type Db, type Document, type OptionalUnlessRequiredId, type WriteError } from 'mongodb';
import { ConflictError } from '../errors.js';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const SERVER_SELECTION_TIMEOUT_MS = 5_000;
const PING_TIMEOUT_MS = 1_000;

/**
 * Creates the client without waiting for the server: the driver connects lazily and reconnects
 * on its own, so a Mongo that is down at start makes /readyz fail instead of crashing the process.
 * The database is the one named in the URL's path.
 */
export function createMongo(url: string, appName: string): MongoConnection {
  const client = new MongoClient(url, {
    appName,
    serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
    // FerretDB does not support retryable writes; idempotency is ours (command and event ids)
    retryWrites: false,
  });
  const db = client.db();
  return {
    client,
    db,
    async ping() {
      try {
        await db.command({ ping: 1 }, { timeoutMS: PING_TIMEOUT_MS });
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}

const DUPLICATE_KEY = 11000;

/**
 * A unique-index violation. FerretDB 1.24 reports one on an update (not on an insert) as
 * InternalError (code 1) with SQLite's "UNIQUE constraint failed" text instead of E11000.
 */
export function isDuplicateKeyError(error: unknown): error is MongoServerError {
  if (!(error instanceof MongoServerError)) return false;
  return error.code === DUPLICATE_KEY || (error.code === 1 && error.message.includes('UNIQUE constraint failed'));
}

/**
 * Inserts documents in one unordered round trip and returns the indexes of those a duplicate key
 * refused (the others are stored). Any other write error is thrown.
 */
export async function insertManyExceptDuplicates<T extends Document>(collection: Collection<T>, docs: T[]): Promise<number[]> {
  if (docs.length === 0) return [];
  try {
    await collection.insertMany(docs as OptionalUnlessRequiredId<T>[], { ordered: false });
    return [];
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const errors = ([] as WriteError[]).concat(error.writeErrors as WriteError[] | WriteError);
    if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw error;
    return errors.map((e) => e.index);
  }
}

/**
 * Runs a write and turns a unique-index violation into a typed ConflictError, so callers never
 * look at driver error codes. `describe` names what was duplicated for the error message.
 */
export async function withUniqueConflict<T>(
  write: () => Promise<T>,
  describe: (error: MongoServerError) => { message: string; code: string },
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isDuplicateKeyError(error)) {
      const { message, code } = describe(error);
      throw new ConflictError(message, code, { keyPattern: error.keyPattern });
    }
    throw error;
  }
}

const UNAVAILABLE_ERRORS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/** The database is unreachable (as opposed to refusing the operation): retry later. */
export function isMongoUnavailable(error: unknown): boolean {
  return error instanceof Error && UNAVAILABLE_ERRORS.has(error.name);
}
