import { fileURLToPath } from 'node:url';
import path from 'node:path';
// migrate-mongo ships no type declarations; the small surface used here is typed in ./migrate-mongo.d.ts
import { config as migrateConfig, database, up } from 'migrate-mongo';

/** The repository's migrations folder, resolved from this file (src or dist alike). */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../migrations/mongo');

/**
 * Applies pending migrations from `migrations/mongo` (idempotent: applied ones are recorded in
 * `changelog`). Index changes happen here only, never ad hoc at service start.
 * The migration lock is off: migrate-mongo implements it with a TTL index, which the Mongo-wire
 * floor (FerretDB) does not support; run one migration job at a time instead.
 */
export async function runMigrations(url: string, migrationsDir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  migrateConfig.set({
    mongodb: { url, options: { retryWrites: false, serverSelectionTimeoutMS: 10_000 } },
    migrationsDir,
    changelogCollectionName: 'changelog',
    lockCollectionName: 'changelog_lock',
    lockTtl: 0,
    migrationFileExtension: '.js',
    useFileHash: false,
    moduleSystem: 'esm',
  });
  const { db, client } = await database.connect();
  try {
    return await up(db, client);
  } finally {
    await client.close();
  }
}
