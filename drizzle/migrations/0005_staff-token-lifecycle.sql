-- Hand-edited after drizzle-kit: tokens made before this migration get an id derived from their
-- hash and 90 days from now to live (the default for new ones), so scripts keep working and
-- their owners have time to replace them; only then are the columns made NOT NULL.
ALTER TABLE "staff_tokens" ADD COLUMN "id" text;--> statement-breakpoint
ALTER TABLE "staff_tokens" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "staff_tokens" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "staff_tokens" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
UPDATE "staff_tokens" SET "id" = 'tok_' || substr("token_hash", 1, 26), "expires_at" = now() + interval '90 days';--> statement-breakpoint
ALTER TABLE "staff_tokens" ALTER COLUMN "id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "staff_tokens" ALTER COLUMN "expires_at" SET NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "staff_tokens_id_idx" ON "staff_tokens" USING btree ("id");--> statement-breakpoint
CREATE INDEX "staff_tokens_staff_idx" ON "staff_tokens" USING btree ("staff_id");
