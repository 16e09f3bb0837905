import { and, asc, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { clientsTable } from '../schema.js';

export type ClientRow = typeof clientsTable.$inferSelect;
/** A client as the API shows it: the secret's hash is dropped in the query, never read by callers. */
export type Client = Omit<ClientRow, 'secretHash'>;

const { secretHash: _secretHash, ...publicColumns } = getTableColumns(clientsTable);

/** Service clients. */
export function createClientsRepository({ db }: { db: Executor }) {
  return {
    /** Inserts a client; null when the name is taken. */
    async insert({
      tx,
      row,
    }: {
      tx: Executor;
      row: Pick<ClientRow, 'id' | 'name' | 'secretHash' | 'scopes' | 'namespaces' | 'revealBudget'>;
    }): Promise<Client | null> {
      const [r] = await tx.insert(clientsTable).values(row).onConflictDoNothing({ target: clientsTable.name }).returning(publicColumns);
      return r ?? null;
    },

    async list(): Promise<Client[]> {
      return db.select(publicColumns).from(clientsTable).orderBy(asc(clientsTable.createdAt), asc(clientsTable.id));
    },

    async get({ id }: { id: string }): Promise<Client | null> {
      const [r] = await db.select(publicColumns).from(clientsTable).where(eq(clientsTable.id, id));
      return r ?? null;
    },

    /** With the secret's hash: for the client credentials check only. */
    async getWithSecret({ id }: { id: string }): Promise<ClientRow | null> {
      const [r] = await db.select().from(clientsTable).where(eq(clientsTable.id, id));
      return r ?? null;
    },

    /** Marks a client revoked (keeping the first revocation time); null when there is no such client. */
    async revoke({ tx, id }: { tx: Executor; id: string }): Promise<Client | null> {
      const [r] = await tx
        .update(clientsTable)
        .set({ revokedAt: sql`coalesce(${clientsTable.revokedAt}, now())` })
        .where(eq(clientsTable.id, id))
        .returning(publicColumns);
      return r ?? null;
    },

    /** Replaces an active client's secret hash; null when there is no such active client. */
    async setSecretHash({ tx, id, secretHash }: { tx: Executor; id: string; secretHash: string }): Promise<Client | null> {
      const [r] = await tx
        .update(clientsTable)
        .set({ secretHash })
        .where(and(eq(clientsTable.id, id), isNull(clientsTable.revokedAt)))
        .returning(publicColumns);
      return r ?? null;
    },

    /** Every client's id, budget and revocation: what token verification needs, cached. */
    async statuses(): Promise<Pick<ClientRow, 'id' | 'revealBudget' | 'revokedAt'>[]> {
      return db
        .select({ id: clientsTable.id, revealBudget: clientsTable.revealBudget, revokedAt: clientsTable.revokedAt })
        .from(clientsTable);
    },
  };
}

export type ClientsRepository = ReturnType<typeof createClientsRepository>;
