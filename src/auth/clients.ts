import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit-log.js';
import { rows, type Db } from '../db/client.js';
import { errors } from '../errors.js';
import { SCOPE_PATTERN } from '../vault/principal.js';
import { newClientSecret, type SecretHasher } from './secrets.js';

export interface Client {
  id: string;
  name: string;
  scopes: string[];
  namespaces: string[];
  revealBudget: number | null;
  createdAt: Date;
  revokedAt: Date | null;
}

interface ClientRow {
  id: string;
  name: string;
  scopes: string[];
  namespaces: string[];
  reveal_budget: number | null;
  created_at: Date;
  revoked_at: Date | null;
  secret_hash?: string;
}

const toClient = (r: ClientRow): Client => ({ id: r.id, name: r.name, scopes: r.scopes, namespaces: r.namespaces, revealBudget: r.reveal_budget, createdAt: new Date(r.created_at), revokedAt: r.revoked_at ? new Date(r.revoked_at) : null });
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NS = /^(\*|[a-z0-9][a-z0-9_-]{0,62})$/;

/** Checked on the verified path of every request; refreshed from the database every few seconds. */
export const REVOCATION_REFRESH_MS = 5_000;

/** Used when the client id is unknown, so an unknown id costs the same argon2 work as a wrong secret. */
let dummyHash: Promise<string> | undefined;

export function createClients(deps: { db: Db; hasher: SecretHasher; auditLog: AuditLog }) {
  const { db, hasher } = deps;
  let revoked = new Set<string>();
  let refreshedAt = 0;
  let refreshing: Promise<void> | undefined;

  async function refreshRevoked(): Promise<void> {
    const r = await rows<{ id: string }>(db, sql`select id from clients where revoked_at is not null`);
    revoked = new Set(r.map((x) => x.id));
    refreshedAt = Date.now();
  }

  function validate(input: { name: string; scopes: string[]; namespaces: string[]; revealBudget?: number | null | undefined }) {
    if (!NAME.test(input.name)) throw errors.validation('name must be 1-64 letters, digits, dots, dashes or underscores');
    const bad = input.scopes.filter((s) => !SCOPE_PATTERN.test(s));
    if (!input.scopes.length || bad.length) throw errors.validation(`scopes must be known scopes${bad.length ? ` (unknown: ${bad.join(', ').slice(0, 200)})` : ''}`);
    if (!input.namespaces.length || input.namespaces.some((n) => !NS.test(n))) throw errors.validation('namespaces must be namespace names or "*"');
  }

  return {
    async create(input: { name: string; scopes: string[]; namespaces: string[]; revealBudget?: number | null | undefined }, actor: string, requestId?: string): Promise<{ client: Client; secret: string }> {
      validate(input);
      const secret = newClientSecret();
      const hash = await hasher.hash(secret);
      const id = randomUUID();
      return db.transaction(async (tx) => {
        const r = await rows<ClientRow>(tx, sql`
          insert into clients (id, name, secret_hash, scopes, namespaces, reveal_budget)
          values (${id}, ${input.name}, ${hash}, ${sql.param(input.scopes)}::text[], ${sql.param(input.namespaces)}::text[], ${input.revealBudget ?? null})
          on conflict (name) do nothing
          returning id, name, scopes, namespaces, reveal_budget, created_at, revoked_at`);
        if (!r[0]) throw errors.validation(`a client named ${input.name} exists already`);
        await deps.auditLog.append(tx, [{ requestId: requestId ?? null, actor, action: 'client.create', outcome: 'success', details: { clientId: id, name: input.name, scopes: input.scopes, namespaces: input.namespaces } }]);
        return { client: toClient(r[0]), secret };
      });
    },

    async list(): Promise<Client[]> {
      return (await rows<ClientRow>(db, sql`select id, name, scopes, namespaces, reveal_budget, created_at, revoked_at from clients order by created_at, id`)).map(toClient);
    },

    async get(id: string): Promise<Client | null> {
      const [r] = await rows<ClientRow>(db, sql`select id, name, scopes, namespaces, reveal_budget, created_at, revoked_at from clients where id = ${id}`);
      return r ? toClient(r) : null;
    },

    async revoke(id: string, actor: string, requestId?: string): Promise<Client> {
      const c = await db.transaction(async (tx) => {
        const [r] = await rows<ClientRow>(tx, sql`
          update clients set revoked_at = coalesce(revoked_at, now()) where id = ${id}
          returning id, name, scopes, namespaces, reveal_budget, created_at, revoked_at`);
        if (!r) throw errors.notFound('client');
        await deps.auditLog.append(tx, [{ requestId: requestId ?? null, actor, action: 'client.revoke', outcome: 'success', details: { clientId: id } }]);
        return toClient(r);
      });
      revoked.add(id);
      return c;
    },

    async rotateSecret(id: string, actor: string, requestId?: string): Promise<{ client: Client; secret: string }> {
      const secret = newClientSecret();
      const hash = await hasher.hash(secret);
      return db.transaction(async (tx) => {
        const [r] = await rows<ClientRow>(tx, sql`
          update clients set secret_hash = ${hash} where id = ${id} and revoked_at is null
          returning id, name, scopes, namespaces, reveal_budget, created_at, revoked_at`);
        if (!r) throw errors.notFound('active client');
        await deps.auditLog.append(tx, [{ requestId: requestId ?? null, actor, action: 'client.rotate_secret', outcome: 'success', details: { clientId: id } }]);
        return { client: toClient(r), secret };
      });
    },

    /** The client credentials grant's check: argon2 runs here and nowhere else. */
    async authenticate(id: string, secret: string): Promise<Client | null> {
      const [r] = /^[0-9a-f-]{36}$/i.test(id)
        ? await rows<ClientRow>(db, sql`select id, name, scopes, namespaces, reveal_budget, created_at, revoked_at, secret_hash from clients where id = ${id}`)
        : [];
      dummyHash ??= hasher.hash(newClientSecret());
      const ok = await hasher.verify(r?.secret_hash ?? (await dummyHash), secret);
      if (!r || !ok || r.revoked_at) return null;
      return toClient(r);
    },

    /** True when the client was revoked (as of at most REVOCATION_REFRESH_MS ago on other instances). */
    async isRevoked(id: string): Promise<boolean> {
      if (Date.now() - refreshedAt > REVOCATION_REFRESH_MS) {
        refreshing ??= refreshRevoked().finally(() => (refreshing = undefined));
        await refreshing;
      }
      return revoked.has(id);
    },
  };
}

export type Clients = ReturnType<typeof createClients>;
