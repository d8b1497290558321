/** Test support for the SDK's tests: a server on a temporary socket and raw calls to it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Handlers, type PluginServer, serve } from '../src/sdk/index.ts';

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Record<string, unknown>;
  readonly raw: Buffer;
}

/** `POST /<method>` with `body` (a string is sent as is), as Docker's client does. */
export function post(socket: string, method: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        path: `/${method}`,
        method: 'POST',
        headers: { Accept: 'application/vnd.docker.plugins.v1.2+json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
          } catch {}
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type']),
            body: parsed,
            raw,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? '' : typeof body === 'string' ? body : `${JSON.stringify(body)}\n`);
  });
}

/** Serves `handlers` on a fresh socket; `stop()` closes it and removes the directory. */
export async function testServer(
  handlers: Handlers,
): Promise<PluginServer & { dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sdk-'));
  const server = await serve(handlers, { socket: join(dir, 'p.sock'), handleSignals: false, log: () => {} });
  return {
    ...server,
    dir,
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
