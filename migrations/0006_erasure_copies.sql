ALTER TABLE "mappings" ALTER COLUMN "dek_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "mappings" ALTER COLUMN "ciphertext" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "subject_links" ADD COLUMN "dek_id" uuid;--> statement-breakpoint
ALTER TABLE "subject_links" ADD COLUMN "ciphertext" "bytea";--> statement-breakpoint
ALTER TABLE "mappings" ADD CONSTRAINT "mappings_copy_ck" CHECK (("mappings"."dek_id" is null) = ("mappings"."ciphertext" is null));--> statement-breakpoint
ALTER TABLE "subject_links" ADD CONSTRAINT "subject_links_copy_ck" CHECK (("subject_links"."dek_id" is null) = ("subject_links"."ciphertext" is null));