// Indexes of the clients collection and its history (DESIGN.md §4).
// Kept to plain single/compound indexes: the Mongo-wire floor (FerretDB) has no partial,
// sparse or TTL indexes and no collation.

export async function up(db) {
  const clients = db.collection('clients');
  // email uniqueness is case-insensitive: the service stores the lower-cased, trimmed address here
  await clients.createIndex({ email_normalized: 1 }, { name: 'email_normalized_unique', unique: true });
  await clients.createIndex({ is_active: 1, last_updated: -1 }, { name: 'active_last_updated' });
  await clients.createIndex({ stage: 1, last_updated: -1 }, { name: 'stage_last_updated' });

  const history = db.collection('client_history');
  await history.createIndex({ client_id: 1, at: 1 }, { name: 'client_timeline' });
}

export async function down(db) {
  await db.collection('client_history').dropIndex('client_timeline');
  const clients = db.collection('clients');
  await clients.dropIndex('stage_last_updated');
  await clients.dropIndex('active_last_updated');
  await clients.dropIndex('email_normalized_unique');
}
