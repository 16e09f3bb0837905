/**
 * Database outcomes the domain acts on, named: the vault never looks at an SQLSTATE.
 */

/** A mapping read in this transaction was erased before a row referring to it was written. */
export class MappingErasedError extends Error {
  readonly code = 'MAPPING_ERASED';
  constructor() {
    super('a mapping was erased concurrently');
    this.name = 'MappingErasedError';
  }
}
