// The service store: an interface and its embedded SQLite implementation.
export { openSqliteStore, MIGRATIONS_FOLDER } from './sqlite.ts';
export { openPostgresStore } from './pg/store.ts';
export type * from './types.ts';
export { JOB_STATES, type JobState } from './schema.ts';
