import { hotQuery, type Executor } from '../client.js';
import type { mappingsTable } from '../schema.js';
import { toBuffer } from '../schema.js';

export type MappingRow = typeof mappingsTable.$inferSelect;

/**
 * Get-or-create in one statement. Inserts one mapping per element of the arrays ($1 namespace,
 * $2 consistent, $3–$7 type, token, fingerprint, DEK id, ciphertext) and, in a consistent
 * namespace, returns beside the new rows (created) the rows that already held those fingerprints
 * when the statement began. A row a concurrent writer committed during the statement is in
 * neither: the caller asks again. Tokens once erased are never reissued: candidates found in
 * tombstones are skipped (and redrawn). A value with subjects is inserted without a namespace copy
 * (null DEK and ciphertext): its copies go into its subject links. `ns_copy` says whether an
 * existing row still holds its namespace copy. The bench's raw-insert ceiling runs this statement.
 */
export const GET_OR_CREATE_SQL = `with ins as (
    insert into mappings (namespace, type, token, fingerprint, consistent, dek_id, ciphertext)
    select $1, u.type, u.token, u.fp, $2, u.dek, u.ct
    from unnest($3::text[], $4::text[], $5::bytea[], $6::uuid[], $7::bytea[]) as u(type, token, fp, dek, ct)
    where not exists (select 1 from tombstones t where t.namespace = $1 and t.token = u.token)
    on conflict do nothing
    returning id, token
  )
  select id, token, null::bytea as fingerprint, false as ns_copy from ins
  union all
  select id, token, fingerprint, ciphertext is not null from mappings where $2 and consistent and fingerprint = any($5::bytea[])`;

/**
 * Mappings of a namespace ($1) by token ($2 text[]), each with one readable copy: the namespace
 * copy, or, for a value subjects hold, any one subject's copy (every one of them is the same
 * value). The bench's lookup ceiling runs it too.
 */
export const FIND_BY_TOKEN_SQL = `select m.token, m.type, coalesce(m.dek_id, l.dek_id) as dek_id, coalesce(m.ciphertext, l.ciphertext) as ciphertext
  from mappings m
  left join lateral (select dek_id, ciphertext from subject_links where mapping_id = m.id and m.ciphertext is null and ciphertext is not null limit 1) l on true
  where m.namespace = $1 and m.token = any($2::text[])`;

const PRESENT_SQL = 'select token from mappings where namespace = $1 and token = any($2::text[])';

/** New mappings, column by column (one array per column: the statement unnests them). */
export interface NewMappings {
  type: string[];
  token: string[];
  fingerprint: Buffer[];
  dekId: (string | null)[];
  ciphertext: (Buffer | null)[];
}

/** A row get-or-create returned: created (fingerprint null) or already there (its fingerprint). */
export interface GetOrCreateRow {
  id: number;
  token: string;
  fingerprint: Buffer | null;
  /** An existing row that still holds its namespace-key copy (no subject held it until now). */
  nsCopy: boolean;
}

export type StoredValue = Pick<MappingRow, 'token' | 'type' | 'dekId' | 'ciphertext'>;

/** The token ↔ value mappings. Both statements are on the request path of every call. */
export function createMappingsRepository({ db }: { db: Executor }) {
  return {
    /**
     * Prepared raw SQL: run for every tokenize flush, where drizzle's builder and a fresh plan per
     * call cost measurable CPU, and an insert of arrays (`unnest`) beats a multi-row insert.
     */
    async getOrCreate({
      tx,
      namespace,
      consistent,
      rows,
    }: {
      tx: Executor;
      namespace: string;
      consistent: boolean;
      rows: NewMappings;
    }): Promise<GetOrCreateRow[]> {
      const found = await hotQuery<{ id: number; token: string; fingerprint: Buffer | Uint8Array | null; ns_copy: boolean }>(
        tx,
        'tv_get_or_create',
        GET_OR_CREATE_SQL,
        [namespace, consistent, rows.type, rows.token, rows.fingerprint, rows.dekId, rows.ciphertext],
      );
      return found.map((r) => ({
        id: Number(r.id),
        token: r.token,
        fingerprint: r.fingerprint ? toBuffer(r.fingerprint) : null,
        nsCopy: r.ns_copy,
      }));
    },

    /** Which of these tokens still have a mapping, seen from inside a tokenize transaction. */
    async presentTokens({ tx, namespace, tokens }: { tx: Executor; namespace: string; tokens: string[] }): Promise<string[]> {
      return (await hotQuery<{ token: string }>(tx, 'tv_confirm_tokens', PRESENT_SQL, [namespace, tokens])).map((r) => r.token);
    },

    /** Prepared raw SQL: every detokenize lookup runs it. */
    async findByToken({ namespace, tokens }: { namespace: string; tokens: string[] }): Promise<StoredValue[]> {
      const found = await hotQuery<{ token: string; type: string; dek_id: string | null; ciphertext: Buffer | Uint8Array | null }>(
        db,
        'tv_find_by_token',
        FIND_BY_TOKEN_SQL,
        [namespace, tokens],
      );
      return found.map((r) => ({ token: r.token, type: r.type, dekId: r.dek_id, ciphertext: r.ciphertext && toBuffer(r.ciphertext) }));
    },
  };
}

export type MappingsRepository = ReturnType<typeof createMappingsRepository>;
