// Activity ingestion (docs/architecture.md, "Activity ingestion"): the email directory and the dedup record of activity events.
// - client_emails: normalized email -> client id, so activity named by email is resolved by _id.
//   The clients service keeps it current; this fills it for clients created before it existed.
// - activity_events: one document per event id applied; expired by the clients service after
//   ACTIVITY_DEDUP_DAYS (the Mongo-wire floor has no TTL index). The index serves that cleanup on MongoDB.

const BATCH = 1000;

export async function up(db) {
  const emails = db.collection('client_emails');
  let batch = [];
  const flush = async () => {
    if (batch.length === 0) return;
    try {
      await emails.insertMany(batch, { ordered: false });
    } catch (error) {
      // entries the service wrote meanwhile are already right
      const writeErrors = [].concat(error.writeErrors ?? []);
      if (writeErrors.length === 0 || !writeErrors.every((e) => e.code === 11000)) throw error;
    }
    batch = [];
  };
  const cursor = db.collection('clients').find({}, { projection: { email_normalized: 1, deleted: 1 } });
  for await (const client of cursor) {
    if (client.deleted) continue;
    batch.push({ _id: client.email_normalized, client_id: client._id });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  await db.collection('activity_events').createIndex({ at: 1 }, { name: 'at' });
}

export async function down(db) {
  await db.collection('activity_events').drop().catch(() => {});
  await db.collection('client_emails').drop().catch(() => {});
}
