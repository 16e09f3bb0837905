import { sql } from 'drizzle-orm';
import { chainHash } from '../../src/audit/chain.js';
import { rows, type Db } from '../../src/db/client.js';

/** Appends one row the way another instance would: this process's hint of the chain head goes stale. */
export async function appendAsAnotherWriter(db: Db): Promise<void> {
  const [h] = await rows<{ id: number; hash: Buffer }>(db, sql`select id, hash from audit_head`);
  const other = { id: Number(h!.id) + 1, ts: new Date(), requestId: null, actor: 'other', action: 'test', outcome: 'success', namespace: null, purpose: null, details: {}, erasureId: null };
  const hash = chainHash(Buffer.from(h!.hash), other);
  await db.execute(sql`with m as (update audit_head set id = ${other.id}, hash = ${hash})
    insert into audit_events (id, ts, actor, action, outcome, details, prev_hash, hash)
    values (${other.id}, ${other.ts.toISOString()}, 'other', 'test', 'success', '{}', ${Buffer.from(h!.hash)}, ${hash})`);
}
