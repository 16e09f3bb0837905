CREATE TABLE "audit_checkpoints" (
	"first_seq" bigint PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL,
	"root" "bytea" NOT NULL,
	"prev" "bytea" NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"kid" text NOT NULL,
	"signature" text NOT NULL,
	"horizon" "xid8" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_seals" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"leaf" "bytea" NOT NULL,
	"verdict" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_head" DISABLE ROW LEVEL SECURITY;--> statement-breakpoint
DROP TABLE "audit_head" CASCADE;--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "id" ADD GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "mac" "bytea";--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_seals_seq_uq" ON "audit_seals" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_events_mac_uq" ON "audit_events" USING btree ("mac");--> statement-breakpoint
CREATE INDEX "audit_events_xid_idx" ON "audit_events" USING btree ("xid");--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "prev_hash";--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "hash";
--> statement-breakpoint
-- Hand-written (audit sealing, see docs/architecture.md "Audit sealing").
-- Ids continue after the rows written before sealing existed.
SELECT setval(pg_get_serial_sequence('audit_events', 'id'), greatest(coalesce((SELECT max(id) FROM audit_events), 0), 1), (SELECT count(*) > 0 FROM audit_events));
--> statement-breakpoint
DROP FUNCTION IF EXISTS tokenvault_audit_head_kept();
--> statement-breakpoint
-- The reveal budget no longer rides in the audit append: its abort helper goes with it.
DROP FUNCTION IF EXISTS tokenvault_abort(text, text);
--> statement-breakpoint
-- One refusal for every audit table: rows, seals and checkpoints are only ever appended.
CREATE OR REPLACE FUNCTION tokenvault_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% rejected)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_seals_no_update_delete BEFORE UPDATE OR DELETE ON audit_seals
  FOR EACH ROW EXECUTE FUNCTION tokenvault_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION tokenvault_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION tokenvault_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION tokenvault_audit_append_only();
--> statement-breakpoint
-- The sealer's horizon argument needs each row's xid to be its inserting transaction's: an
-- inserter cannot choose it (a row given an old xid would slip below the horizon, unsealed).
CREATE OR REPLACE FUNCTION tokenvault_audit_xid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.xid := pg_current_xact_id();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_xid BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION tokenvault_audit_xid();
