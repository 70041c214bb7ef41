import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["supabase/**/*.test.ts", "scripts/**/*.test.ts", "examples/nextjs/tests/**/*.test.ts"],
    globalSetup: ["scripts/test/global-setup.ts"],
    // Integration tests start Postgres clusters, Deno and HTTP servers; 2 cores are shared.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
