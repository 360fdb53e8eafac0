-- A result becomes its log entry: results keyed by log index with the leaf datum (from log_leaves), log_leaves
-- dropped, and each done job pointing at its result through jobs.log_index. Hand-ordered: the data is copied before
-- the old tables go (drizzle-kit's draft dropped log_leaves first and copied a struct_hash results never had).
ALTER TABLE `jobs` ADD `log_index` integer;--> statement-breakpoint
CREATE TABLE `__new_results` (
	`log_index` integer PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`struct_hash` text NOT NULL,
	`attestation` text NOT NULL,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_results`("log_index", "job_id", "struct_hash", "attestation") SELECT r."log_index", r."job_id", l."struct_hash", r."attestation" FROM `results` r JOIN `log_leaves` l ON l."idx" = r."log_index" AND l."job_id" = r."job_id";--> statement-breakpoint
UPDATE `jobs` SET "log_index" = n."log_index" FROM `__new_results` n WHERE n."job_id" = `jobs`."id";--> statement-breakpoint
DROP TABLE `results`;--> statement-breakpoint
DROP TABLE `log_leaves`;--> statement-breakpoint
ALTER TABLE `__new_results` RENAME TO `results`;
