-- Run the vault as a role that can do only what the code needs: no UPDATE or DELETE on anything
-- that records history (audit, tombstones, the erasure feed), no DDL, no TRUNCATE.
-- Apply as the database owner after `tokenvault migrate` (migrations themselves need the owner).
-- Replace the password; connect the vault with DATABASE_URL=postgres://tokenvault_app:…@host/db.
-- The test suite applies this file and runs the vault's flows as this role: a grant the code
-- needs and this file lacks fails that test, and so does a grant of UPDATE/DELETE on history.

CREATE ROLE tokenvault_app LOGIN PASSWORD 'change-me';
GRANT CONNECT ON DATABASE current_database() TO tokenvault_app;  -- psql: use the database name
GRANT USAGE ON SCHEMA public TO tokenvault_app;

-- Token mappings: created by tokenize, deleted by erasure, never rewritten.
GRANT SELECT, INSERT, DELETE ON mappings TO tokenvault_app;
-- Subject links: created by tokenize; erasure removes them through the mappings' ON DELETE CASCADE.
GRANT SELECT, INSERT ON subject_links TO tokenvault_app;
-- Data keys: created, re-wrapped on KEK rotation (UPDATE, and row locks), destroyed with a subject.
GRANT SELECT, INSERT, UPDATE, DELETE ON data_keys TO tokenvault_app;
-- Tombstones and the erasure feed: written once by an erasure, then only read.
GRANT SELECT, INSERT ON tombstones, erasures TO tokenvault_app;
-- Clients: created, revoked and given new secrets (UPDATE); never deleted.
GRANT SELECT, INSERT, UPDATE ON clients TO tokenvault_app;
-- Reveal budgets: counters incremented in place and pruned when no window can reach them.
GRANT SELECT, INSERT, UPDATE, DELETE ON reveal_counters TO tokenvault_app;
-- Mapping ids come from their identity sequence.
GRANT USAGE ON SEQUENCE mappings_id_seq, audit_events_id_seq TO tokenvault_app;

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
