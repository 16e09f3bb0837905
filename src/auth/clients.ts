import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/client.js';
import type { Client, ClientsRepository } from '../db/repositories/clients-repository.js';
import { errors } from '../errors.js';
import { SCOPE_PATTERN } from '../vault/principal.js';
import type { Principal } from '../vault/principal.js';
import { grantNotAllowed, refuseHttpGrant, separationOfDutiesError, violatesSeparationOfDuties, type GrantPolicy } from './grants.js';
import { newClientSecret, type SecretHasher } from './secrets.js';

export type { Client };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NS = /^(\*|[a-z0-9][a-z0-9_-]{0,62})$/;

/** Checked on the verified path of every request; refreshed from the database every few seconds. */
export const REVOCATION_REFRESH_MS = 5_000;
const CLIENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a client token's verification takes from the client row: it is active, and its budget. */
export type ClientStatus = { state: 'active'; revealBudget: number | null } | { state: 'revoked' | 'unknown' };

type GrantInput = { name: string; scopes: string[]; namespaces: string[]; revealBudget?: number | null | undefined };

/** Used when the client id is unknown, so an unknown id costs the same argon2 work as a wrong secret. */
let dummyHash: Promise<string> | undefined;

export function createClients(deps: { db: Db; repo: ClientsRepository; hasher: SecretHasher; auditLog: AuditLog }) {
  const { db, repo, hasher } = deps;
  let known = new Map<string, ClientStatus>();
  let refreshedAt = 0;
  let refreshing: Promise<void> | undefined;

  const statusOf = (r: { revealBudget: number | null; revokedAt: Date | null }): ClientStatus =>
    r.revokedAt ? { state: 'revoked' } : { state: 'active', revealBudget: r.revealBudget };

  /** Every instance re-reads all clients every few seconds: revocations elsewhere show within that. */
  async function refresh(): Promise<void> {
    known = new Map((await repo.statuses()).map((x) => [x.id, statusOf(x)]));
    refreshedAt = Date.now();
  }

  function validate(input: GrantInput) {
    if (!NAME.test(input.name)) throw errors.validation('name must be 1-64 letters, digits, dots, dashes or underscores');
    const bad = input.scopes.filter((s) => !SCOPE_PATTERN.test(s));
    if (!input.scopes.length || bad.length)
      throw errors.validation(`scopes must be known scopes${bad.length ? ` (unknown: ${bad.join(', ').slice(0, 200)})` : ''}`);
    if (!input.namespaces.length || input.namespaces.some((n) => !NS.test(n)))
      throw errors.validation('namespaces must be namespace names or "*"');
    if (violatesSeparationOfDuties(input.scopes)) throw separationOfDutiesError();
  }

  return {
    /** The checks every grant passes (CLI or HTTP): 400 on names, unknown scopes, separation of duties. */
    validate,

    async create(input: GrantInput, actor: string, requestId?: string): Promise<{ client: Client; secret: string }> {
      validate(input);
      const secret = newClientSecret();
      const hash = await hasher.hash(secret);
      const id = randomUUID();
      return db.transaction(async (tx) => {
        const client = await repo.insert({
          tx,
          row: {
            id,
            name: input.name,
            secretHash: hash,
            scopes: input.scopes,
            namespaces: input.namespaces,
            revealBudget: input.revealBudget ?? null,
          },
        });
        if (!client) throw errors.validation(`a client named ${input.name} exists already`);
        await deps.auditLog.append(tx, [
          {
            requestId: requestId ?? null,
            actor,
            action: 'client.create',
            outcome: 'success',
            details: {
              clientId: id,
              name: input.name,
              scopes: input.scopes,
              namespaces: input.namespaces,
              revealBudget: input.revealBudget ?? null,
            },
          },
        ]);
        return { client, secret };
      });
    },

    /**
     * An admin's grant over HTTP: only within the policy's allowlist, the admin's own namespaces
     * and the budget ceiling; a refusal is 403 GRANT_NOT_ALLOWED, audited with what was asked.
     */
    async createOverHttp(
      input: GrantInput,
      grantor: Principal,
      policy: { grants: GrantPolicy; defaultBudget: number },
      requestId: string,
    ): Promise<{ client: Client; secret: string }> {
      validate(input);
      const refusal = refuseHttpGrant(input, grantor, policy.grants, policy.defaultBudget);
      if (refusal) {
        const { name, scopes, namespaces, revealBudget } = input;
        await db.transaction((tx) =>
          deps.auditLog.append(tx, [
            {
              requestId,
              actor: grantor.id,
              action: 'client.create',
              outcome: 'denied',
              details: { name, scopes, namespaces, revealBudget: revealBudget ?? null, reason: refusal },
            },
          ]),
        );
        throw grantNotAllowed(refusal);
      }
      return this.create(input, grantor.id, requestId);
    },

    list: (): Promise<Client[]> => repo.list(),

    get: (id: string): Promise<Client | null> => repo.get({ id }),

    async revoke(id: string, actor: string, requestId?: string): Promise<Client> {
      const c = await db.transaction(async (tx) => {
        const r = await repo.revoke({ tx, id });
        if (!r) throw errors.notFound('client');
        await deps.auditLog.append(tx, [
          { requestId: requestId ?? null, actor, action: 'client.revoke', outcome: 'success', details: { clientId: id } },
        ]);
        return r;
      });
      known.set(id, { state: 'revoked' });
      return c;
    },

    async rotateSecret(id: string, actor: string, requestId?: string): Promise<{ client: Client; secret: string }> {
      const secret = newClientSecret();
      const hash = await hasher.hash(secret);
      return db.transaction(async (tx) => {
        const r = await repo.setSecretHash({ tx, id, secretHash: hash });
        if (!r) throw errors.notFound('active client');
        await deps.auditLog.append(tx, [
          { requestId: requestId ?? null, actor, action: 'client.rotate_secret', outcome: 'success', details: { clientId: id } },
        ]);
        return { client: r, secret };
      });
    },

    /** The client credentials grant's check: argon2 runs here and nowhere else. */
    async authenticate(id: string, secret: string): Promise<Client | null> {
      const r = /^[0-9a-f-]{36}$/i.test(id) ? await repo.getWithSecret({ id }) : null;
      dummyHash ??= hasher.hash(newClientSecret());
      const ok = await hasher.verify(r?.secretHash ?? (await dummyHash), secret);
      if (!r || !ok || r.revokedAt) return null;
      const { secretHash: _secretHash, ...client } = r;
      return client;
    },

    /**
     * Whether a client token's subject is an active client, and its budget (as of at most
     * REVOCATION_REFRESH_MS ago on other instances). A client created since the last refresh is
     * read on its own; only ids of the client id form are looked up.
     */
    async status(id: string): Promise<ClientStatus> {
      if (Date.now() - refreshedAt > REVOCATION_REFRESH_MS) {
        refreshing ??= refresh().finally(() => (refreshing = undefined));
        await refreshing;
      }
      const cached = known.get(id);
      if (cached || !CLIENT_ID.test(id)) return cached ?? { state: 'unknown' };
      const r = await repo.get({ id });
      if (!r) return { state: 'unknown' };
      const s = statusOf(r);
      known.set(id, s);
      return s;
    },
  };
}

export type Clients = ReturnType<typeof createClients>;
