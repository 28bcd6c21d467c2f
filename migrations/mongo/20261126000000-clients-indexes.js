// Indexes of the clients collection (docs/architecture.md, "Data model"). Timelines (client_history) and command
// outcomes (commands) are read by _id only and need none.
// Kept to plain single/compound indexes: the Mongo-wire floor (FerretDB) has no partial,
// sparse or TTL indexes and no collation.

export async function up(db) {
  const clients = db.collection('clients');
  // email uniqueness is case-insensitive: the service stores the lower-cased, trimmed address here
  await clients.createIndex({ email_normalized: 1 }, { name: 'email_normalized_unique', unique: true });
  await clients.createIndex({ is_active: 1, last_updated: -1 }, { name: 'active_last_updated' });
  await clients.createIndex({ stage: 1, last_updated: -1 }, { name: 'stage_last_updated' });
}

export async function down(db) {
  const clients = db.collection('clients');
  await clients.dropIndex('stage_last_updated');
  await clients.dropIndex('active_last_updated');
  await clients.dropIndex('email_normalized_unique');
}
