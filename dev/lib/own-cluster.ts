// A PostgreSQL cluster of a test's own, for faults that must not hit the shared stack: it is
// really stopped and started with pg_ctl. Stand-ins and migrations are applied as db:up does.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { asClusterUser as asPostgres, clusterScratchDir } from "./cluster-user.ts";
import { freePort } from "./serve-function.ts";
import { loadStandIns, pushMigrations } from "./stand-ins.ts";

export interface OwnCluster {
  url: string;
  stop(): void;
  start(): void;
  destroy(): void;
}

export async function ownCluster(): Promise<OwnCluster> {
  const dir = clusterScratchDir("truthful-own-cluster-");
  const data = join(dir, "data");
  const port = await freePort();
  asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]);
  const options = `-c port=${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=on`;
  const start = () =>
    asPostgres("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  const stop = () => asPostgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  start();
  const url = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
  loadStandIns(url);
  pushMigrations(url);
  return {
    url,
    start,
    stop,
    destroy() {
      try {
        stop();
      } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
