// Installs the Next.js kit's dependencies and builds it when a source changed: for tests outside
// vitest (adapters/python's test against the real persist route).
import { ensureNextExampleBuilt, ensureNextExampleDeps } from "../lib/nextjs-example.ts";

ensureNextExampleDeps();
ensureNextExampleBuilt();
