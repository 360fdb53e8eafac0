CREATE TABLE `result_heads` (
	`id` integer PRIMARY KEY NOT NULL,
	`head` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `results` ADD `head_id` integer REFERENCES result_heads(id);