CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"request_id" text,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"namespace" text,
	"purpose" text,
	"details" jsonb NOT NULL,
	"erasure_id" uuid,
	"prev_hash" "bytea" NOT NULL,
	"hash" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clients" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"secret_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"namespaces" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "data_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text,
	"subject_hmac" "bytea",
	"kek_version" integer NOT NULL,
	"wrapped_key" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "erasures" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"method" text NOT NULL,
	"reference" text,
	"actor" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone NOT NULL,
	"tokens_erased" integer NOT NULL,
	"receipt" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mappings" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "mappings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"namespace" text NOT NULL,
	"type" text NOT NULL,
	"token" text NOT NULL,
	"fingerprint" "bytea" NOT NULL,
	"consistent" boolean NOT NULL,
	"dek_id" uuid NOT NULL,
	"ciphertext" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subject_links" (
	"subject_hmac" "bytea" NOT NULL,
	"mapping_id" bigint NOT NULL,
	CONSTRAINT "subject_links_pk" PRIMARY KEY("subject_hmac","mapping_id")
);
--> statement-breakpoint
CREATE TABLE "tombstones" (
	"namespace" text NOT NULL,
	"token" text NOT NULL,
	"type" text NOT NULL,
	"erasure_id" uuid NOT NULL,
	"erased_at" timestamp with time zone NOT NULL,
	CONSTRAINT "tombstones_pk" PRIMARY KEY("namespace","token")
);
--> statement-breakpoint
ALTER TABLE "subject_links" ADD CONSTRAINT "subject_links_mapping_id_mappings_id_fk" FOREIGN KEY ("mapping_id") REFERENCES "public"."mappings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_ts_idx" ON "audit_events" USING btree ("ts");--> statement-breakpoint
CREATE UNIQUE INDEX "clients_name_uq" ON "clients" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "data_keys_subject_uq" ON "data_keys" USING btree ("subject_hmac") WHERE "data_keys"."subject_hmac" is not null;--> statement-breakpoint
CREATE INDEX "data_keys_namespace_idx" ON "data_keys" USING btree ("namespace","created_at") WHERE "data_keys"."namespace" is not null;--> statement-breakpoint
CREATE INDEX "data_keys_kek_version_idx" ON "data_keys" USING btree ("kek_version");--> statement-breakpoint
CREATE UNIQUE INDEX "erasures_seq_uq" ON "erasures" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "mappings_token_uq" ON "mappings" USING btree ("namespace","token");--> statement-breakpoint
CREATE UNIQUE INDEX "mappings_fingerprint_uq" ON "mappings" USING btree ("fingerprint") WHERE "mappings"."consistent";--> statement-breakpoint
CREATE INDEX "mappings_fingerprint_random_idx" ON "mappings" USING btree ("fingerprint") WHERE not "mappings"."consistent";--> statement-breakpoint
CREATE INDEX "subject_links_mapping_idx" ON "subject_links" USING btree ("mapping_id");--> statement-breakpoint
CREATE INDEX "tombstones_erasure_idx" ON "tombstones" USING btree ("erasure_id");