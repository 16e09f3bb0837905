CREATE TABLE "reveal_counters" (
	"principal" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "reveal_counters_pk" PRIMARY KEY("principal","window_start")
);
--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "reveal_budget" integer;