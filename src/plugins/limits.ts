import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

/** JSON deeper than this is refused before it is built: no request body of the API nests past 4. */
export const MAX_JSON_DEPTH = 16;

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when the JSON text nests arrays/objects deeper than max (strings skipped); one pass. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * Limits that run before any body is read or parsed: a per-IP request limit in onRequest (health,
 * metrics and routes with their own limits are exempt), and the JSON parser refusing bodies
 * nested past MAX_JSON_DEPTH before it builds them (a deeply nested body is cheap to send and
 * costly to build and to walk).
 */
export const limitsPlugin = fp(
  async (app: FastifyInstance, opts: { ipRateLimitPerMinute: number }) => {
    const perIp = app.createRateLimit({
      max: opts.ipRateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (req: FastifyRequest) => `ip:${req.ip}`,
    });
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.rateLimit === false) return;
      await enforce(perIp, request, 'too many requests from this address');
    });

    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (nestsDeeperThan(body as string, MAX_JSON_DEPTH)) {
        done(new AppError(400, 'MALFORMED_JSON', `request body is nested more than ${MAX_JSON_DEPTH} levels deep`), undefined);
        return;
      }
      parseJson(request, body as string, done);
    });
  },
  { name: 'limits', dependencies: ['@fastify/rate-limit'] },
);

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** 429 RATE_LIMITED with Retry-After when the limiter has no room for this request. */
export async function enforce(limit: Limiter, request: FastifyRequest, message: string): Promise<void> {
  const r = await limit(request);
  if (!r.isAllowed && r.isExceeded) throw new AppError(429, 'RATE_LIMITED', message, undefined, { 'retry-after': String(r.ttlInSeconds) });
}
