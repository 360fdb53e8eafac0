DROP INDEX `jobs_state`;--> statement-breakpoint
CREATE INDEX `jobs_pending` ON `jobs` (`created_at`) WHERE "jobs"."state" = 'accepted';--> statement-breakpoint
DROP INDEX `results_log_index_unique`;