import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  boolean,
} from 'drizzle-orm/pg-core';

/** bytea that always reads as a Buffer (PGlite hands back Uint8Array, node-postgres Buffer). */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => toBuffer(v),
});

export function toBuffer(v: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

/** Data-encryption keys, stored only wrapped by a master key (KEK). */
export const dataKeysTable = pgTable(
  'data_keys',
  {
    id: uuid('id').primaryKey(),
    /** Set for a namespace key; null for a subject key (a subject's key spans namespaces). */
    namespace: text('namespace'),
    /** Keyed HMAC of the subject id; null for a namespace key. Deleting this row crypto-shreds the subject. */
    subjectHmac: bytea('subject_hmac'),
    /** Version of the KEK that wraps this DEK; a version still referenced here cannot be retired. */
    kekVersion: integer('kek_version').notNull(),
    /** AES-256-GCM of the DEK under the KEK, AAD = DEK id and KEK version. */
    wrappedKey: bytea('wrapped_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('data_keys_subject_uq')
      .on(t.subjectHmac)
      .where(sql`${t.subjectHmac} is not null`),
    index('data_keys_namespace_idx')
      .on(t.namespace, t.createdAt)
      .where(sql`${t.namespace} is not null`),
    index('data_keys_kek_version_idx').on(t.kekVersion),
  ],
);

/** The token ↔ value mapping. The value exists only as ciphertext. */
export const mappingsTable = pgTable(
  'mappings',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    namespace: text('namespace').notNull(),
    type: text('type').notNull(),
    token: text('token').notNull(),
    /** HMAC-SHA-256 of (namespace, type, normalized value) under the fingerprint key. */
    fingerprint: bytea('fingerprint').notNull(),
    /** True when the namespace issues one token per value: then the fingerprint is unique. */
    consistent: boolean('consistent').notNull(),
    /**
     * The namespace-key copy: set only while no subject holds the value. Attaching the first
     * subject moves the value into that subject's link (same transaction), so erasing the subject
     * leaves no copy that a surviving key opens. Both null ⇔ the copies live in subject_links.
     */
    dekId: uuid('dek_id'),
    /** [version][IV][AES-256-GCM ciphertext][tag], AAD = namespace, type, token. */
    ciphertext: bytea('ciphertext'),
    createdAt: createdAt(),
  },
  (t) => [
    check('mappings_copy_ck', sql`(${t.dekId} is null) = (${t.ciphertext} is null)`),
    uniqueIndex('mappings_token_uq').on(t.namespace, t.token),
    uniqueIndex('mappings_fingerprint_uq')
      .on(t.fingerprint)
      .where(sql`${t.consistent}`),
    index('mappings_fingerprint_random_idx')
      .on(t.fingerprint)
      .where(sql`not ${t.consistent}`),
  ],
);

/** Which subjects a mapping belongs to (a value may belong to several). */
export const subjectLinksTable = pgTable(
  'subject_links',
  {
    subjectHmac: bytea('subject_hmac').notNull(),
    mappingId: bigint('mapping_id', { mode: 'number' })
      .notNull()
      .references(() => mappingsTable.id, { onDelete: 'cascade' }),
    /** The subject's DEK; with ciphertext, the subject's own copy of the value (crypto-shredded with the key). */
    dekId: uuid('dek_id'),
    /**
     * The value under the subject's DEK, AAD as in mappings. Null only on links written before
     * per-link copies existed: the mapping's ciphertext serves those.
     */
    ciphertext: bytea('ciphertext'),
  },
  (t) => [
    check('subject_links_copy_ck', sql`(${t.dekId} is null) = (${t.ciphertext} is null)`),
    primaryKey({ name: 'subject_links_pk', columns: [t.subjectHmac, t.mappingId] }),
    index('subject_links_mapping_idx').on(t.mappingId),
  ],
);

/** Erased tokens: never reissued, answered as "erased". Holds no value and no subject. */
export const tombstonesTable = pgTable(
  'tombstones',
  {
    namespace: text('namespace').notNull(),
    token: text('token').notNull(),
    type: text('type').notNull(),
    erasureId: uuid('erasure_id').notNull(),
    erasedAt: timestamp('erased_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ name: 'tombstones_pk', columns: [t.namespace, t.token] }), index('tombstones_erasure_idx').on(t.erasureId)],
);

/** Erasure receipts and the downstream feed. */
export const erasuresTable = pgTable(
  'erasures',
  {
    id: uuid('id').primaryKey(),
    /** Feed position: assigned under a lock held to commit, so feed order is commit order. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    method: text('method').notNull(),
    reference: text('reference'),
    actor: text('actor').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }).notNull(),
    tokensErased: integer('tokens_erased').notNull(),
    /** The signed receipt exactly as returned to the caller. */
    receipt: jsonb('receipt').notNull(),
  },
  (t) => [uniqueIndex('erasures_seq_uq').on(t.seq)],
);

/** PostgreSQL's 64-bit transaction id (xid8): the inserting transaction of an audit row. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * Append-only audit trail (triggers in migrations reject UPDATE/DELETE/TRUNCATE). Rows are
 * inserted with no lock shared across requests; the sealer gives them their order (audit_seals)
 * and signs checkpoints over them (audit_checkpoints). See docs/architecture.md, "Audit sealing".
 */
export const auditEventsTable = pgTable(
  'audit_events',
  {
    /** Insertion id: unique, not the order (a lower id can commit after a higher one). */
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
    requestId: text('request_id'),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    namespace: text('namespace'),
    purpose: text('purpose'),
    /** Tokens, counts, reason codes: never values, subject ids or secrets. */
    details: jsonb('details').notNull(),
    erasureId: uuid('erasure_id'),
    /**
     * A 16-byte nonce and the HMAC-SHA-256 of nonce and row under a key derived from the audit
     * signing key, which the database never sees: a row the database role inserts itself cannot
     * carry a valid one. Null only on rows written before sealing existed.
     */
    mac: bytea('mac'),
    /** The inserting transaction (forced by a trigger): the sealer's horizon is a transaction id. */
    xid: xid8('xid')
      .notNull()
      .default(sql`pg_current_xact_id()`),
  },
  (t) => [index('audit_events_ts_idx').on(t.ts), uniqueIndex('audit_events_mac_uq').on(t.mac), index('audit_events_xid_idx').on(t.xid)],
);

/** The final order of audit rows: one seal per row, seq contiguous from 1. Append-only. */
export const auditSealsTable = pgTable(
  'audit_seals',
  {
    eventId: bigint('event_id', { mode: 'number' }).primaryKey(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    /** RFC 6962 leaf hash of the row, its seq and verdict (the sealer's record of what it signed). */
    leaf: bytea('leaf').notNull(),
    /** The sealer's check of the row's MAC: ok, forged, replayed or legacy. */
    verdict: text('verdict').notNull(),
  },
  (t) => [uniqueIndex('audit_seals_seq_uq').on(t.seq)],
);

/** Signed checkpoints: each covers seqs first..last with a Merkle root, chained to the previous one. */
export const auditCheckpointsTable = pgTable('audit_checkpoints', {
  firstSeq: bigint('first_seq', { mode: 'number' }).primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  root: bytea('root').notNull(),
  /** SHA-256 of the previous checkpoint's signed body (32 zero bytes for the first). */
  prev: bytea('prev').notNull(),
  ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
  kid: text('kid').notNull(),
  /** Ed25519 over the canonical body, base64url. */
  signature: text('signature').notNull(),
  /** Not signed: every row of a transaction below this id is sealed (the sealer resumes here). */
  horizon: xid8('horizon').notNull(),
});

/** Service clients (ingest services): secrets only as argon2id hashes. */
export const clientsTable = pgTable(
  'clients',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    namespaces: text('namespaces').array().notNull(),
    /** Reveal budget per window for this client; null → the configured default. */
    revealBudget: integer('reveal_budget'),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('clients_name_uq').on(t.name)],
);

/** Revealed-value counters per principal and fixed window, shared by every instance. */
export const revealCountersTable = pgTable(
  'reveal_counters',
  {
    principal: text('principal').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ name: 'reveal_counters_pk', columns: [t.principal, t.windowStart] })],
);
