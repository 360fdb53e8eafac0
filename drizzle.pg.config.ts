// drizzle-kit: generates the committed SQL migrations of the PostgreSQL store from enclave/store/pg/schema.ts.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './enclave/store/pg/schema.ts',
  out: './enclave/store/pg/migrations',
});
