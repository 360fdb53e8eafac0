DROP INDEX `jobs_pending`;--> statement-breakpoint
CREATE INDEX `jobs_pending` ON `jobs` (`created_at`,`id`) WHERE "jobs"."state" = 'accepted';