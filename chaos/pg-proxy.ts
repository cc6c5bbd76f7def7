/**
 * A loopback TCP proxy in front of the shared Postgres, so that a case can
 * take Postgres away from the bot alone: `cut()` resets every open connection
 * and refuses new ones (accepted, then reset at once) until `restore()`.
 * The shared server itself is never stopped.
 */
import net from 'node:net';

export interface PgProxy {
  /** `target` with its host and port replaced by the proxy's. */
  url: string;
  cut(): void;
  restore(): void;
  /** Connections refused while cut. */
  refused(): number;
  close(): Promise<void>;
}

export async function startPgProxy(target: string): Promise<PgProxy> {
  const to = new URL(target);
  const upstream = { host: to.hostname, port: Number(to.port || 5432) };
  const open = new Set<net.Socket>();
  let down = false;
  let refused = 0;
  const server = net.createServer((client) => {
    if (down) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    const server = net.connect(upstream);
    open.add(client).add(server);
    const drop = () => {
      open.delete(client);
      open.delete(server);
      client.destroy();
      server.destroy();
    };
    client.on('error', drop).on('close', drop);
    server.on('error', drop).on('close', drop);
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    cut() {
      down = true;
      // A reset, as a crashed server or a dropped network gives: no orderly goodbye.
      for (const s of open) s.resetAndDestroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.resetAndDestroy();
        server.close(() => resolve());
      }),
  };
}
