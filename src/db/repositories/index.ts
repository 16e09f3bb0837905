import type { Executor } from '../client.js';
import { createClientsRepository } from './clients-repository.js';
import { createDataKeysRepository } from './data-keys-repository.js';
import { createErasuresRepository } from './erasures-repository.js';
import { createKeysRepository } from './keys-repository.js';
import { createMappingsRepository } from './mappings-repository.js';
import { createRevealCountersRepository } from './reveal-counters-repository.js';
import { createSubjectLinksRepository } from './subject-links-repository.js';

/** Every repository on one database. Each method takes an optional or required `tx` for transactions. */
export function createRepositories({ db }: { db: Executor }) {
  return {
    mappings: createMappingsRepository({ db }),
    dataKeys: createDataKeysRepository({ db }),
    subjectLinks: createSubjectLinksRepository({ db }),
    erasures: createErasuresRepository({ db }),
    clients: createClientsRepository({ db }),
    revealCounters: createRevealCountersRepository({ db }),
    keys: createKeysRepository({ db }),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
