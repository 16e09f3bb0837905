/**
 * The process's exit codes (documented in the README), so scripts and supervisors can tell a
 * retryable outage from a deployment mistake. Values follow sysexits.h where one fits.
 */
export const EXIT = {
  ok: 0,
  /** Anything unexpected (a bug): see the log. */
  failure: 1,
  /** The CLI was called wrongly; the message says how to call it. */
  usage: 2,
  /** The database cannot be reached, does not exist, or refuses the credentials (EX_UNAVAILABLE). */
  databaseUnavailable: 69,
  /** The database has not had this build's migrations: run `tokenvault migrate` (EX_DATAERR). */
  migrationsMissing: 65,
  /** HOST:PORT is taken or not ours to bind (EX_CANTCREAT). */
  portUnavailable: 73,
  /** Another process holds the embedded data directory (EX_TEMPFAIL: retry once it stops). */
  dataDirLocked: 75,
  /** The environment, policy, IdP file or keys are invalid (EX_CONFIG). */
  config: 78,
} as const;
