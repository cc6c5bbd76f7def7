/**
 * The bare node:http server of the HTTP authorize rows' floor: reads the body
 * and answers 200 with a small JSON body. authorize-http.ts runs it in the
 * bench's own process by default; run as a script (`node --import tsx
 * bench/bare-server.ts`) it listens on a free loopback port and prints the
 * port, so that authorize-deployed.ts runs it in a process of its own.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export function createBareServer(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"decision":"allow"}'));
  });
}

/** Listens on a free loopback port; resolves with it. */
export async function listenOnLoopback(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = await listenOnLoopback(createBareServer());
  process.stdout.write(`${port}\n`);
}
