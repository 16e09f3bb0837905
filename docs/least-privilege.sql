-- Run the vault as a role that cannot rewrite history: INSERT and SELECT only on audit_events.
-- Apply as the database owner after `tokenvault migrate` (migrations themselves need the owner).
-- Replace the password; connect the vault with DATABASE_URL=postgres://tokenvault_app:…@host/db.

CREATE ROLE tokenvault_app LOGIN PASSWORD 'change-me';
GRANT CONNECT ON DATABASE current_database() TO tokenvault_app;  -- psql: use the database name
GRANT USAGE ON SCHEMA public TO tokenvault_app;

-- The vault's working tables: full DML.
GRANT SELECT, INSERT, UPDATE, DELETE ON mappings, subject_links, data_keys, tombstones,
  erasures, clients, reveal_counters TO tokenvault_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tokenvault_app;

-- The audit trail: append and read, nothing else (the triggers refuse UPDATE/DELETE/TRUNCATE
-- for everyone; without these grants the role could not even try). The sealer, which runs in the
-- vault as this role, appends seals and signed checkpoints; what this role could insert there
-- itself carries no valid signature or MAC, and verify names it.
GRANT SELECT, INSERT ON audit_events, audit_seals, audit_checkpoints TO tokenvault_app;
-- An erasure's feed insert takes its sequence number (and the feed lock) through this one.
GRANT EXECUTE ON FUNCTION tokenvault_next_erasure_seq() TO tokenvault_app;

-- readyz reads the migration journal.
GRANT USAGE ON SCHEMA drizzle TO tokenvault_app;
GRANT SELECT ON drizzle.__drizzle_migrations TO tokenvault_app;
