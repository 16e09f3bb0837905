import { writeFileSync } from 'node:fs';
import { generateOpenApi, serializeOpenApi } from '../src/openapi.js';

const path = new URL('../openapi/openapi.json', import.meta.url);
writeFileSync(path, serializeOpenApi(await generateOpenApi()));
console.log(`wrote ${path.pathname}`);
