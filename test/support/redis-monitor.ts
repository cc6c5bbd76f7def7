import { connect, type Socket } from 'node:net';
import { REDIS_URL } from './services.js';

/**
 * Redis's MONITOR over a bare socket, for tests that count the commands one client sends.
 * ioredis's own `monitor()` sets its "monitoring" state a microtask after MONITOR's +OK, so on a
 * busy server a line that arrives in the same TCP chunk is taken for a command reply and thrown
 * as "Command queue state error" (ioredis #1981, bullmq #2505): CI failed on exactly that.
 */
export interface RedisMonitor {
  /** Command names (lower case) seen so far from the client at `addr` ("ip:port"), in order. */
  commandsFrom(addr: string): string[];
  close(): void;
}

// One MONITOR line: +<unix seconds> [<db> <addr>] "<command>" "<arg>"…
const LINE = /^\+\d+\.\d+ \[\d+ (\S+)\] "((?:[^"\\]|\\.)*)"/;

export const openRedisMonitor = (url = REDIS_URL): Promise<RedisMonitor> => {
  const { hostname, port } = new URL(url);
  const seen: { addr: string; command: string }[] = [];
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port || 6379), hostname);
    let buffered = '';
    let started = false;
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('connect', () => socket.write('MONITOR\r\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\r\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!started) {
          if (line !== '+OK') return reject(new Error(`MONITOR answered ${line}`));
          started = true;
          resolve({
            commandsFrom: (addr) => seen.filter((s) => s.addr === addr).map((s) => s.command),
            close: () => socket.destroy(),
          });
          continue;
        }
        const m = LINE.exec(line);
        if (m) seen.push({ addr: m[1]!, command: m[2]!.toLowerCase() });
      }
    });
  });
};
