/**
 * The metrics listener: its own HTTP server on TCP (never the Engine API socket), `GET /metrics` and nothing
 * else. A scrape reads the registry; it changes nothing.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BerthMetrics } from './berth-metrics.ts';

/** Where to listen: an IP literal or host name, and a port (0: any free one). */
export interface MetricsListen {
  readonly host: string;
  readonly port: number;
}

export interface MetricsServer {
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** `GET` (and `HEAD`) of `/metrics`, with or without a query; a 404 that says where the metrics are otherwise. */
function serve(metrics: BerthMetrics, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
    answer(res, 404, 'text/plain; charset=utf-8', 'berthd serves its metrics at /metrics\n');
    return;
  }
  metrics.text().then(
    (text) => answer(res, 200, metrics.contentType, text),
    (err: Error) => answer(res, 500, 'text/plain; charset=utf-8', `metrics failed: ${err.message}\n`),
  );
}

/** Listens on `at` and serves `metrics`. @throws the listen error (in use, not a local address…), nothing left open */
export async function serveMetrics(at: MetricsListen, metrics: BerthMetrics): Promise<MetricsServer> {
  const server = createServer((req, res) => serve(metrics, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // a scraper's keep-alive connection must not hold berthd's stop
    });
  return { port: (server.address() as AddressInfo).port, close };
}
