// A TCP proxy with a switch: the network between a worker and the database, cut and restored
// for real (connections are destroyed; new ones are refused until restored).
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let up = true;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!up) return client.destroy();
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const cut = () => {
    up = false;
    for (const s of open) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    restore: () => (up = true, undefined),
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
