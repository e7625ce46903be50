import { defineConfig } from 'drizzle-kit';

// Run from packages/db (`pnpm db:generate`); migrations live at the repository root.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: '../../migrations',
});
