CREATE TABLE "profile_snapshots" (
	"profile_key" text PRIMARY KEY NOT NULL,
	"site_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"taken_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "profile_snapshots_site_idx" ON "profile_snapshots" USING btree ("site_id");