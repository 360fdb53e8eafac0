CREATE TABLE `evidence` (
	`digest` text PRIMARY KEY NOT NULL,
	`evidence` text NOT NULL,
	`manifest` text NOT NULL,
	`jwks` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_results` (
	`log_id` text DEFAULT '' NOT NULL,
	`log_index` integer NOT NULL,
	`job_id` text NOT NULL,
	`struct_hash` text NOT NULL,
	`attestation` text NOT NULL,
	`head_id` integer,
	PRIMARY KEY(`log_id`, `log_index`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`head_id`) REFERENCES `result_heads`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_results`("log_id", "log_index", "job_id", "struct_hash", "attestation", "head_id") SELECT '', "log_index", "job_id", "struct_hash", "attestation", "head_id" FROM `results`;--> statement-breakpoint
DROP TABLE `results`;--> statement-breakpoint
ALTER TABLE `__new_results` RENAME TO `results`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE TABLE `__new_tree_heads` (
	`log_id` text DEFAULT '' NOT NULL,
	`tree_size` integer NOT NULL,
	`root_hash` text NOT NULL,
	`timestamp` integer NOT NULL,
	`jws` text NOT NULL,
	`chain_signature` text NOT NULL,
	PRIMARY KEY(`log_id`, `tree_size`)
);
--> statement-breakpoint
INSERT INTO `__new_tree_heads`("log_id", "tree_size", "root_hash", "timestamp", "jws", "chain_signature") SELECT '', "tree_size", "root_hash", "timestamp", "jws", "chain_signature" FROM `tree_heads`;--> statement-breakpoint
DROP TABLE `tree_heads`;--> statement-breakpoint
ALTER TABLE `__new_tree_heads` RENAME TO `tree_heads`;--> statement-breakpoint
ALTER TABLE `jobs` ADD `decryption_key` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `claimed_by` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `lease_until` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `log_id` text;--> statement-breakpoint
UPDATE `jobs` SET `log_id` = '' WHERE `log_index` IS NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_by_lender` ON `jobs` (`lender_id`,`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `submissions` ADD `decryption_key` text DEFAULT '' NOT NULL;