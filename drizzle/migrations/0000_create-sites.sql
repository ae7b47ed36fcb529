CREATE TABLE "sites" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"write_key" text NOT NULL,
	"secret_hash" text NOT NULL,
	"allowed_origins" text[] DEFAULT '{}' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sites_write_key_unique" UNIQUE("write_key"),
	CONSTRAINT "sites_secret_hash_unique" UNIQUE("secret_hash")
);
