import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';

it('Swagger UI "Try it out" fills in the namespace "default" (one that exists), not a random string', () => {
  const doc = JSON.parse(readFileSync(join(ROOT, 'openapi/openapi.json'), 'utf8')) as {
    paths: Record<
      string,
      Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, { examples?: unknown }> } }> } }>
    >;
  };
  for (const path of ['/v1/tokenize', '/v1/detokenize']) {
    const schema = doc.paths[path]!.post!.requestBody!.content['application/json']!.schema;
    expect(schema.properties!.namespace!.examples, path).toEqual(['default']);
  }
});
