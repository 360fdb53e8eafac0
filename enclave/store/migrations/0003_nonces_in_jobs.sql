DROP TABLE `nonces`;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_nonce` ON `jobs` (`lender_id`,`nonce`);