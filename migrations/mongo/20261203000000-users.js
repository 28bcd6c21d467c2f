// Users and sign-in: the gateway writes both collections.
// - users: the older service's documents ({_id, name, email, password, role, created_at,
//   updated_at}) plus email_normalized, which is unique. Users already in the database (the older
//   service used the same collection) get it here first, so the index can be built.
// - refresh_tokens: one document per refresh token (its SHA-256 is the _id), found by family on
//   reuse and by user on deletion, demotion and login (expired ones are dropped then; the
//   Mongo-wire floor has no TTL index).

const normalize = (email) => String(email).normalize('NFC').trim().toLowerCase();

export async function up(db) {
  const users = db.collection('users');
  const cursor = users.find({ email_normalized: { $exists: false } }, { projection: { email: 1 } });
  for await (const user of cursor) {
    if (typeof user.email !== 'string') continue;
    await users.updateOne({ _id: user._id }, { $set: { email_normalized: normalize(user.email) } });
  }
  await users.createIndex({ email_normalized: 1 }, { name: 'email_normalized_unique', unique: true });
  const tokens = db.collection('refresh_tokens');
  await tokens.createIndex({ family_id: 1 }, { name: 'family' });
  await tokens.createIndex({ user_id: 1 }, { name: 'user' });
}

export async function down(db) {
  await db.collection('refresh_tokens').drop().catch(() => {});
  await db.collection('users').dropIndex('email_normalized_unique');
}
