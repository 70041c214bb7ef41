// The tests use the same stand-in loader and migration push as db:up.
export { loadStandIns, pushMigrations, repoRoot } from "../../../scripts/lib/stand-ins.ts";
