import { readFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';

export const CLIENT_TYPES = new URL('../src/client/openapi-types.ts', import.meta.url);
const DOCUMENT = new URL('../openapi/openapi.json', import.meta.url);

/** The client's types as openapi-typescript generates them from the committed OpenAPI document. */
export async function generateClientTypes(): Promise<string> {
  const ast = await openapiTS(JSON.parse(readFileSync(DOCUMENT, 'utf8')));
  return `/**\n * Generated from openapi/openapi.json by openapi-typescript (npm run client:types). Do not edit.\n */\n\n${astToString(ast)}`;
}
