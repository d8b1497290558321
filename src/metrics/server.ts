/**
 * The metrics listener: its own HTTP server on TCP (never the Engine API socket), `GET /metrics` and nothing
 * else. A scrape reads the registry; it changes nothing.
 *
 * @module
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
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

/** Listens on `at` and serves `metrics`. @throws the listen error (in use, not a local address…), nothing left open */
export async function serveMetrics(at: MetricsListen, metrics: BerthMetrics): Promise<MetricsServer> {
  const app = Fastify({ forceCloseConnections: true });
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('text/plain; charset=utf-8').send('berthd serves its metrics at /metrics\n'),
  );
  try {
    await app.listen({ host: at.host, port: at.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}
