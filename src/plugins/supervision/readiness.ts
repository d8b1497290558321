import { existsSync, type FSWatcher, watch } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';

/** Whether something accepts connections on the unix socket `path` now. */
export function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export type Readiness =
  | { readonly ready: true; readonly ms: number }
  | { readonly ready: false; readonly why: 'exited' | 'timeout' };

/**
 * Waits until the socket accepts a connection, the process exits, or the deadline passes. The socket's
 * directory is watched (inotify): the plugin's bind creates the file, and that event starts a connect at once,
 * then every millisecond while the file is there but not yet listening. Without events the socket is still
 * tried on a backoff from 1 ms to {@link QUIET_POLL_MAX_MS} (a path the watch cannot see, a missed event).
 * Polling alone, every millisecond, cost each waiting enable a connect per millisecond: with 100 plugins
 * restoring at once that kept berthd's thread busy and took a core from the runtimes it was waiting for.
 */
export async function waitForSocket(
  path: string,
  exited: Promise<unknown>,
  timeoutMs: number,
): Promise<Readiness> {
  const started = performance.now();
  let gone = false;
  let wake: (() => void) | undefined;
  const woken = () => {
    wake?.();
    wake = undefined;
  };
  void exited.then(() => {
    gone = true;
    woken();
  });
  const watcher = watchDir(dirname(path), woken);
  try {
    for (let quiet = 1; ; ) {
      if (await canConnect(path)) return { ready: true, ms: performance.now() - started };
      if (gone) return { ready: false, why: 'exited' };
      const elapsed = performance.now() - started;
      if (elapsed > timeoutMs) return { ready: false, why: 'timeout' };
      // A socket file that exists is about to listen: retry soon. Otherwise back off until an event.
      const delay = existsSync(path) ? 1 : quiet;
      quiet = Math.min(quiet * 2, watcher ? QUIET_POLL_MAX_MS : 10);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(delay, timeoutMs - elapsed + 1));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    watcher?.close();
  }
}

/** The longest wait between two connects when the directory watch is on and says nothing. */
export const QUIET_POLL_MAX_MS = 50;

/** Calls `changed` on every change in `dir`; undefined when it cannot be watched (then polling alone decides). */
function watchDir(dir: string, changed: () => void): FSWatcher | undefined {
  try {
    const watcher = watch(dir, { persistent: false }, changed);
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}

/** What `Plugin.Activate` got: an answer (with the interfaces it lists, if any), or none within the timeout. */
export type ActivateAnswer =
  | { readonly answered: true; readonly implements: string[] | undefined }
  | { readonly answered: false; readonly why: 'timeout' | 'error' };

/**
 * `POST /Plugin.Activate` (best effort: managed plugins need not answer it). Says whether the plugin answered
 * within `timeoutMs` and with which interfaces: a plugin that accepts connections but never answers is hung.
 */
export function askActivate(path: string, timeoutMs: number): Promise<ActivateAnswer> {
  return new Promise((resolve) => {
    const req = request(
      {
        socketPath: path,
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
