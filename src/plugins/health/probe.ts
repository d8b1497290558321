/**
 * The default health probe: `POST /Plugin.Activate` over the plugin's socket, with a hard deadline. Any HTTP
 * answer below 500 passes (managed plugins need not implement Activate: a 404 still proves the plugin serves
 * requests); a 5xx, a refused connection or no complete answer within the timeout fails. A plugin that accepts
 * connections but never answers is exactly what this catches.
 *
 * @module
 */
import { request } from 'node:http';
import type { ProbeResult } from './state.ts';

/** Docker caps a probe's output at 4 KiB. */
const MAX_OUTPUT = 4096;

/** Runs one probe against the unix socket at `path`. */
export type Probe = (path: string, timeoutMs: number) => Promise<ProbeResult>;

/** `1500` → `1.5s`, `200` → `200ms`, `90000` → `1m30s`: Go's duration text, as Docker's messages use it. */
export function goDurationText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = `${(ms % 60_000) / 1000}s`;
  return minutes ? `${minutes}m${seconds}` : seconds;
}

export const probeActivate: Probe = (path, timeoutMs) => {
  const start = new Date().toISOString();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ExitCode: number, Output: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve({ Start: start, End: new Date().toISOString(), ExitCode, Output: Output.slice(0, MAX_OUTPUT) });
    };
    const req = request(
      {
        socketPath: path,
        method: 'POST',
        path: '/Plugin.Activate',
        headers: { Accept: 'application/vnd.docker.plugins.v1.2+json' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < MAX_OUTPUT) body += c;
        });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          finish(code >= 500 ? 1 : 0, `Plugin.Activate answered HTTP ${code}: ${body.trim()}`);
        });
        res.on('error', (err) => finish(1, `Plugin.Activate failed: ${err.message}`));
      },
    );
    // Not the socket idle timeout: a plugin trickling bytes must not pass either.
    const deadline = setTimeout(
      () => finish(-1, `Health check exceeded timeout (${goDurationText(timeoutMs)})`),
      timeoutMs,
    );
    req.on('error', (err) => finish(1, `Plugin.Activate failed: ${err.message}`));
    req.end();
  });
};
