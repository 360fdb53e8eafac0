CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" bigint DEFAULT extract(epoch from now())::bigint NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"subject" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "borrower_queries" (
	"nullifier" text PRIMARY KEY NOT NULL,
	"window_start" bigint NOT NULL,
	"count" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consents" (
	"id" text PRIMARY KEY NOT NULL,
	"submission_id" text NOT NULL,
	"lender_id" text NOT NULL,
	"purpose" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"max_uses" integer NOT NULL,
	"uses" integer DEFAULT 0 NOT NULL,
	"jws" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "evidence" (
	"digest" text PRIMARY KEY NOT NULL,
	"evidence" text NOT NULL,
	"manifest" text NOT NULL,
	"jwks" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"lender_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"consent_id" text NOT NULL,
	"submission_id" text NOT NULL,
	"request_id" text NOT NULL,
	"nonce" text NOT NULL,
	"escrow_job_id" text,
	"threshold" integer NOT NULL,
	"state" text NOT NULL,
	"error_code" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"decryption_key" text NOT NULL,
	"claimed_by" text,
	"lease_until" bigint,
	"log_id" text,
	"log_index" bigint
);
--> statement-breakpoint
CREATE TABLE "lender_rate" (
	"lender_id" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"at_ms" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lenders" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"rate_per_second" integer NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "lenders_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "result_heads" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "result_heads_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"head" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "results" (
	"log_id" text COLLATE "C" NOT NULL,
	"log_index" bigint NOT NULL,
	"job_id" text NOT NULL,
	"struct_hash" text NOT NULL,
	"attestation" text NOT NULL,
	"head_id" bigint,
	CONSTRAINT "results_log_id_log_index_pk" PRIMARY KEY("log_id","log_index"),
	CONSTRAINT "results_job_id_unique" UNIQUE("job_id")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "submissions" (
	"id" text PRIMARY KEY NOT NULL,
	"ciphertext" text,
	"input_commitment" text NOT NULL,
	"nullifier" text NOT NULL,
	"owner_key" text NOT NULL,
	"decryption_key" text NOT NULL,
	"created_at" bigint NOT NULL,
	"deleted_at" bigint
);
--> statement-breakpoint
CREATE TABLE "tree_heads" (
	"log_id" text COLLATE "C" NOT NULL,
	"tree_size" bigint NOT NULL,
	"root_hash" text NOT NULL,
	"timestamp" bigint NOT NULL,
	"jws" text NOT NULL,
	"chain_signature" text NOT NULL,
	CONSTRAINT "tree_heads_log_id_tree_size_pk" PRIMARY KEY("log_id","tree_size")
);
--> statement-breakpoint
ALTER TABLE "consents" ADD CONSTRAINT "consents_submission_id_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "results" ADD CONSTRAINT "results_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "results" ADD CONSTRAINT "results_head_id_result_heads_id_fk" FOREIGN KEY ("head_id") REFERENCES "public"."result_heads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_idempotency" ON "jobs" USING btree ("lender_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_nonce" ON "jobs" USING btree ("lender_id","nonce");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_request" ON "jobs" USING btree ("lender_id","request_id");--> statement-breakpoint
CREATE INDEX "jobs_claim" ON "jobs" USING btree ("decryption_key","created_at","id") WHERE "jobs"."state" = 'accepted';--> statement-breakpoint
CREATE INDEX "jobs_by_lender" ON "jobs" USING btree ("lender_id","created_at","id");--> statement-breakpoint
CREATE INDEX "submissions_input_commitment" ON "submissions" USING btree ("input_commitment");