/**
 * A small typed client for berthd's API over its unix socket, on node:http (fast CLI start; undici is kept
 * for the daemon). Error statuses become berth's error kinds with the daemon's message.
 *
 * @module
 */
import { type IncomingMessage, request } from 'node:http';
import type { Readable } from 'node:stream';
import { errorFromStatus, InvalidParameterError, UnavailableError } from '../errdefs/index.ts';

/** Where berthd listens unless `-H` or `BERTH_HOST` says otherwise. */
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** `unix:///path` → `/path`. @throws {InvalidParameterError} for anything else */
export function socketOf(host: string): string {
  if (!host.startsWith('unix:///')) {
    throw new InvalidParameterError(
      `host must look like unix:///run/berth/berth.sock, got ${JSON.stringify(host)}`,
    );
  }
  return host.slice('unix://'.length);
}

export interface RequestOptions {
  /** JSON-encoded request body. */
  readonly body?: unknown;
  /** A raw body streamed as is (e.g. a tar), with its content type. */
  readonly upload?: { readonly stream: Readable; readonly contentType: string };
  readonly signal?: AbortSignal;
  /** Extra request headers (e.g. `X-Registry-Auth`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class BerthClient {
  readonly socketPath: string;

  constructor(host: string = DEFAULT_HOST) {
    this.socketPath = socketOf(host);
  }

  /** Sends a request and returns the response stream once its status is known to be a success. */
  async stream(method: string, path: string, o: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.#send(method, path, o);
    if (res.statusCode && res.statusCode < 400) return res;
    throw await errorOf(res);
  }

  /** Sends a request and decodes the JSON answer. */
  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.stream(method, path, o);
    const text = await readAll(res);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  #send(method: string, path: string, o: RequestOptions): Promise<IncomingMessage> {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers: Record<string, string> = { ...o.headers };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    if (o.upload) headers['Content-Type'] = o.upload.contentType;
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath: this.socketPath, method, path, headers, ...(o.signal ? { signal: o.signal } : {}) },
        resolve,
      );
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.#connectError(err)));
      if (o.upload) {
        o.upload.stream.on('error', (err) => req.destroy(err));
        o.upload.stream.pipe(req);
      } else req.end(payload);
    });
  }

  #connectError(err: NodeJS.ErrnoException): Error {
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
      return new UnavailableError(
        `cannot connect to berthd at unix://${this.socketPath}: ${err.code}. Is berthd running? (set -H or BERTH_HOST)`,
      );
    }
    if (err.code === 'EACCES') {
      return new UnavailableError(
        `permission denied on unix://${this.socketPath}: run as root or join the socket's group`,
      );
    }
    return err;
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function errorOf(res: IncomingMessage): Promise<Error> {
  const text = await readAll(res);
  let message = text.trim() || `HTTP ${res.statusCode}`;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the raw text
  }
  return errorFromStatus(res.statusCode ?? 500, message);
}
