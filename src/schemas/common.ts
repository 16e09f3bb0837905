import { Type, type TSchema } from 'typebox';
import { ERROR_CODES } from '../errors.js';
import { TOKEN_TYPES, type TokenType } from '../formats/registry.js';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.Unsafe<string>({ type: 'string', enum: [...ERROR_CODES], description: 'stable UPPER_SNAKE error code' }),
      message: Type.String(),
      items: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), code: Type.String(), message: Type.String() }))),
    }),
    requestId: Type.String(),
  },
  { $id: 'ErrorBody', description: 'The one error shape' },
);

const errorRef = Type.Ref('ErrorBody');

/** Error responses every authenticated route can give, plus the ones it names. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of [400, 401, 403, 429, 500, 503, ...statuses]) out[s] = errorRef;
  return out;
}

/** An enum, not a union of literals: ajv checks it in one step for each of 10,000 items. */
export const TokenTypeSchema = Type.Unsafe<TokenType>({ type: 'string', enum: [...TOKEN_TYPES], description: 'token type (SPEC §4)' });

export const NamespaceName = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  description: 'namespace (policy domain); default "default"',
  // Swagger UI's "Try it out" fills in the first example: one that exists, not a random string (a 404).
  examples: ['default'],
});

/**
 * No NUL (PostgreSQL text cannot hold it), no other C0/C1 controls, no bidi overrides or isolates
 * (they make audit rows and logs read differently from what they hold), no lone surrogates.
 */
export const PLAIN_TEXT = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]*$';
/** Strings that reach SQL as text: anything but NUL. */
export const NO_NUL = '^[^\\u0000]*$';

/** Free text recorded in the audit row, e.g. a ticket reference. */
export const Purpose = Type.String({
  minLength: 3,
  maxLength: 200,
  pattern: PLAIN_TEXT,
  description: 'why the values are needed (audited), e.g. a ticket reference; printable text only',
});

/** A bearer JWT: a vault token (the oauth2 client credentials flow) or a staff token from the IdP. */
export const bearerSecurity: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { oauth2: [] }];
