// `npm run deno:cache`: fetch the Edge Function's npm dependencies into Deno's cache now (the demo
// and the tests do it themselves; this is the command their error message names for a retry).
import { cacheDenoDependencies, DenoDependenciesError } from "../lib/deno-deps.ts";

try {
  await cacheDenoDependencies();
  console.error("deno:cache: the Edge Function's dependencies are in Deno's cache");
} catch (error) {
  console.error(`deno:cache: ${error instanceof DenoDependenciesError ? error.message : String(error)}`);
  process.exit(1);
}
