CREATE TABLE "audit_head" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"id" bigint NOT NULL,
	"hash" "bytea" NOT NULL,
	CONSTRAINT "audit_head_singleton" CHECK ("audit_head"."singleton")
);
--> statement-breakpoint
-- Start the head where the chain ends (32 zero bytes is the genesis hash of an empty chain).
INSERT INTO "audit_head" ("id", "hash")
SELECT coalesce(max(id), 0),
       coalesce((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), decode(repeat('00', 32), 'hex'))
FROM audit_events;
--> statement-breakpoint
-- The head row only ever moves forward by UPDATE; removing it would stop every append.
CREATE OR REPLACE FUNCTION tokenvault_audit_head_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_head cannot be removed (% rejected)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_head_no_delete
  BEFORE DELETE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION tokenvault_audit_head_kept();
--> statement-breakpoint
CREATE TRIGGER audit_head_no_truncate
  BEFORE TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION tokenvault_audit_head_kept();
