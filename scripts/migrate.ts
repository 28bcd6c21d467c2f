/** Applies pending MongoDB migrations from migrations/mongo. Usage: npm run migrate */
import { Type } from 'typebox';
import { createLogger, loadConfig, MongoConfig, runMigrations } from '@trackme/platform';

const config = loadConfig('migrate', Type.Object(MongoConfig));
const logger = createLogger('migrate');
const applied = await runMigrations(config.MONGO_URL);
logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'no pending migrations');
