DROP INDEX `jobs_request_id_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_request` ON `jobs` (`lender_id`,`request_id`);