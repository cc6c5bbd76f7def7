import type { ServerResponse } from 'node:http';

/**
 * A JSON answer with its length: one write of headers and body, where a
 * length-less answer goes out chunked (header, size line, body, terminator in
 * one writev) and the client has the chunks to parse. Never cached.
 */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}
