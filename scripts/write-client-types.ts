import { writeFileSync } from 'node:fs';
import { CLIENT_TYPES, generateClientTypes } from './client-types.js';

writeFileSync(CLIENT_TYPES, await generateClientTypes());
console.log(`wrote ${CLIENT_TYPES.pathname}`);
