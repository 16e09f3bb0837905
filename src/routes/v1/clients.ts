import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Client, Clients } from '../../auth/clients.js';
import type { GrantPolicy } from '../../auth/grants.js';
import { principalOf } from '../../plugins/bearer-auth.js';
import { bearerSecurity, errorResponses } from '../../schemas/common.js';

const Client = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  namespaces: Type.Array(Type.String()),
  revealBudget: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const WithSecret = Type.Object({ client: Client, secret: Type.String({ description: 'shown once; only its argon2id hash is stored' }) });
const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    scopes: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 32 }),
    namespaces: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 64, default: ['default'] }),
    revealBudget: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false, examples: [{ name: 'checkout-ingest', scopes: ['tokenize'], namespaces: ['default'] }] },
);
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

/** The client as the schema shows it (the serializer would write the dates so anyway). */
const view = (c: Client) => ({ ...c, createdAt: c.createdAt.toISOString(), revokedAt: c.revokedAt?.toISOString() ?? null });
const withSecret = ({ client, secret }: { client: Client; secret: string }) => ({ client: view(client), secret });

export const clientRoutes: FastifyPluginAsyncTypebox<{ clients: Clients; grants: GrantPolicy; defaultBudget: number }> = async (
  app,
  opts,
) => {
  const admin = app.authorize('admin');
  const common = { tags: ['clients'], security: bearerSecurity };

  app.post(
    '/clients',
    {
      onRequest: admin,
      schema: {
        ...common,
        operationId: 'createClient',
        summary: 'Create a service client',
        description:
          "Create a service client (admin). The secret is returned once. Only scopes in the policy file's grants allowlist (default: tokenize), namespaces the admin holds, and a revealBudget up to the allowed maximum can be granted here (403 GRANT_NOT_ALLOWED); wider grants need the CLI. tokenize with a detokenize scope is 400 SEPARATION_OF_DUTIES.",
        body: CreateBody,
        response: { 201: WithSecret, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const created = await opts.clients.createOverHttp(
        request.body,
        principalOf(request),
        { grants: opts.grants, defaultBudget: opts.defaultBudget },
        request.id,
      );
      return reply.code(201).send(withSecret(created));
    },
  );

  app.get(
    '/clients',
    {
      onRequest: admin,
      schema: {
        ...common,
        operationId: 'listClients',
        summary: 'List service clients',
        description: 'List service clients (admin). Secrets are never returned.',
        response: { 200: Type.Object({ clients: Type.Array(Client) }), ...errorResponses() },
      },
    },
    async () => ({ clients: (await opts.clients.list()).map(view) }),
  );

  app.delete(
    '/clients/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        operationId: 'revokeClient',
        summary: 'Revoke a service client',
        description: 'Revoke a client (admin): its secret stops working at once, its tokens within 5 seconds on every instance.',
        params: IdParams,
        response: { 200: Type.Object({ client: Client }), ...errorResponses(404) },
      },
    },
    async (request) => ({ client: view(await opts.clients.revoke(request.params.id, principalOf(request).id, request.id)) }),
  );

  app.post(
    '/clients/:id/secret',
    {
      onRequest: admin,
      schema: {
        ...common,
        operationId: 'rotateClientSecret',
        summary: 'Rotate a client secret',
        description: 'Replace a client secret (admin); the new one is returned once. Tokens already issued stay valid until they expire.',
        params: IdParams,
        response: { 200: WithSecret, ...errorResponses(404) },
      },
    },
    async (request) => withSecret(await opts.clients.rotateSecret(request.params.id, principalOf(request).id, request.id)),
  );
};
