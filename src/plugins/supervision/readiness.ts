import { statSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/** Whether something accepts connections on the unix socket `path` now. */
export async function canConnect(path: string): Promise<boolean> {
  const socket = await connected(path);
  socket?.destroy();
  return socket !== undefined;
}

/** A connection to the unix socket `path`, or undefined when nothing accepts one now. */
function connected(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });
}

/**
 * `socket` is the connection that proved it: the caller sends its first request on it (`Plugin.Activate`, the
 * next step of the readiness path) rather than connecting again, and must end it.
 */
export type Readiness =
  | { readonly ready: true; readonly ms: number; readonly socket: Socket }
  | { readonly ready: false; readonly why: 'exited' | 'timeout' };

/**
 * Polls the socket until it accepts a connection, the process exits, or the deadline passes: every
 * millisecond for the first second (a plugin is usually listening within tens of milliseconds, and a stat of a
 * missing path costs microseconds), then every 10 ms. Exponential backoff would add up to the last interval to
 * every enable.
 */
export async function waitForSocket(
  path: string,
  exited: Promise<unknown>,
  timeoutMs: number,
): Promise<Readiness> {
  const started = performance.now();
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (;;) {
    // Until the plugin binds, the path is missing: a stat says so for a few microseconds, where a connect that
    // fails costs a socket, an error with its stack and a close (~50 µs of CPU each, while runc wants the CPU).
    const socket = statSync(path, { throwIfNoEntry: false }) ? await connected(path) : undefined;
    if (socket) return { ready: true, ms: performance.now() - started, socket };
    if (gone) return { ready: false, why: 'exited' };
    const elapsed = performance.now() - started;
    if (elapsed > timeoutMs) return { ready: false, why: 'timeout' };
    await new Promise((r) => setTimeout(r, elapsed < 1000 ? 1 : 10));
  }
}

/** What `Plugin.Activate` got: an answer (with the interfaces it lists, if any), or none within the timeout. */
export type ActivateAnswer =
  | { readonly answered: true; readonly implements: string[] | undefined }
  | { readonly answered: false; readonly why: 'timeout' | 'error' };

/**
 * `POST /Plugin.Activate` (best effort: managed plugins need not answer it). Says whether the plugin answered
 * within `timeoutMs` and with which interfaces: a plugin that accepts connections but never answers is hung.
 * `over` is a connection to `path` already open (the one {@link waitForSocket} proved the socket with): the
 * request goes on it, which saves a connect and the plugin an accept; it is closed once answered.
 */
export function askActivate(path: string, timeoutMs: number, over?: Socket): Promise<ActivateAnswer> {
  return new Promise((resolve) => {
    const req = request(
      {
        socketPath: path,
        // A socket of our own gets no `timeout` from the options (net.connect would set it): set it here.
        ...(over ? { createConnection: () => over.setTimeout(timeoutMs) } : {}),
        method: 'POST',
        path: '/Plugin.Activate',
        headers: { Accept: 'application/vnd.docker.plugins.v1.2+json' },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => {
          let list: unknown;
          try {
            list = (JSON.parse(body) as { Implements?: unknown }).Implements;
          } catch {
            list = undefined;
          }
          resolve({ answered: true, implements: Array.isArray(list) ? list.map(String) : undefined });
        });
      },
    );
    let timedOut = false;
    req.on('timeout', () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', () => resolve({ answered: false, why: timedOut ? 'timeout' : 'error' }));
    req.end();
  });
}

/** The interfaces `Plugin.Activate` lists, or undefined when it does not answer with them. */
export async function activate(path: string, timeoutMs: number): Promise<string[] | undefined> {
  const answer = await askActivate(path, timeoutMs);
  return answer.answered ? answer.implements : undefined;
}

/** `docker.volumedriver/1.0` → `VolumeDriver`, as plugins name themselves in `Implements`. */
const IMPLEMENTS_NAME: Record<string, string> = {
  volumedriver: 'VolumeDriver',
  networkdriver: 'NetworkDriver',
  ipamdriver: 'IpamDriver',
  authz: 'authz',
  logdriver: 'LogDriver',
  metricscollector: 'MetricsCollector',
  graphdriver: 'GraphDriver',
};

/** A warning when `Implements` does not cover the manifest's types, else undefined. */
export function implementsMismatch(
  types: readonly string[],
  implementsList: readonly string[],
): string | undefined {
  const missing = types
    .map((t) => IMPLEMENTS_NAME[/\.([a-z0-9]+)\//.exec(t)?.[1] ?? ''] ?? t)
    .filter((name) => !implementsList.some((i) => i.toLowerCase() === name.toLowerCase()));
  return missing.length
    ? `Plugin.Activate answered Implements ${JSON.stringify(implementsList)}, missing ${missing.join(', ')} declared in Interface.Types`
    : undefined;
}
