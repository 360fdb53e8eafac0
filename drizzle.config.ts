// drizzle-kit: generates the committed SQL migrations of the service store from enclave/store/schema.ts.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './enclave/store/schema.ts',
  out: './enclave/store/migrations',
});
