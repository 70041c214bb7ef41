import { defineConfig } from "vitest/config";

// Two projects: `unit` (the pure parts: no database, no global set-up; `npm run test:unit`) and
// `integration` (real Postgres, Deno, HTTP, Chromium), whose global set-up builds the template
// database every file clones.
const unit = ["supabase/tests/unit/**/*.test.ts", "reporter/tests/journal.test.ts", "dev/docs/check-links.test.ts"];

export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    // Integration tests start Postgres clusters, Deno and HTTP servers; 2 cores are shared.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      // The pure parts share one worker and skip per-file isolation: they hold no state between files.
      { extends: true, test: { name: "unit", include: unit, pool: "threads", isolate: false } },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "supabase/**/*.test.ts",
            "reporter/tests/**/*.test.ts",
            "dev/**/*.test.ts",
            "examples/nextjs/tests/**/*.test.ts",
          ],
          exclude: [...unit, "**/node_modules/**"],
          globalSetup: ["dev/test/global-setup.ts"],
        },
      },
    ],
  },
});
