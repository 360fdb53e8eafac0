CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer DEFAULT (unixepoch()) NOT NULL,
	`kind` text NOT NULL,
	`actor` text NOT NULL,
	`subject` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `borrower_queries` (
	`nullifier` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `consents` (
	`id` text PRIMARY KEY NOT NULL,
	`submission_id` text NOT NULL,
	`lender_id` text NOT NULL,
	`purpose` text NOT NULL,
	`expires_at` integer NOT NULL,
	`max_uses` integer NOT NULL,
	`uses` integer DEFAULT 0 NOT NULL,
	`jws` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`lender_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`request_hash` text NOT NULL,
	`consent_id` text NOT NULL,
	`submission_id` text NOT NULL,
	`request_id` text NOT NULL,
	`nonce` text NOT NULL,
	`escrow_job_id` text,
	`threshold` integer NOT NULL,
	`state` text NOT NULL,
	`error_code` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_request_id_unique` ON `jobs` (`request_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_idempotency` ON `jobs` (`lender_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `jobs_state` ON `jobs` (`state`);--> statement-breakpoint
CREATE TABLE `lenders` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`rate_per_second` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lenders_key_hash_unique` ON `lenders` (`key_hash`);--> statement-breakpoint
CREATE TABLE `log_leaves` (
	`idx` integer PRIMARY KEY NOT NULL,
	`struct_hash` text NOT NULL,
	`job_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `log_leaves_job_id_unique` ON `log_leaves` (`job_id`);--> statement-breakpoint
CREATE TABLE `nonces` (
	`lender_id` text NOT NULL,
	`nonce` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`lender_id`, `nonce`)
);
--> statement-breakpoint
CREATE TABLE `results` (
	`job_id` text PRIMARY KEY NOT NULL,
	`attestation` text NOT NULL,
	`log_index` integer NOT NULL,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `results_log_index_unique` ON `results` (`log_index`);--> statement-breakpoint
CREATE TABLE `submissions` (
	`id` text PRIMARY KEY NOT NULL,
	`ciphertext` text,
	`input_commitment` text NOT NULL,
	`nullifier` text NOT NULL,
	`owner_key` text NOT NULL,
	`created_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE TABLE `tree_heads` (
	`tree_size` integer PRIMARY KEY NOT NULL,
	`root_hash` text NOT NULL,
	`timestamp` integer NOT NULL,
	`jws` text NOT NULL,
	`chain_signature` text NOT NULL
);
