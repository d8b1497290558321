import { spawn } from 'node:child_process';

/** What a finished command did. `error` is set when it could not be started at all (e.g. ENOENT). */
export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly error?: Error;
  readonly durationMs: number;
}

export interface CommandOptions {
  readonly timeoutMs: number;
  readonly cwd?: string;
  /** Bytes kept of each of stdout and stderr (the tail beyond is dropped). */
  readonly maxOutput?: number;
}

/**
 * Runs a command to completion with a hard deadline (SIGKILL of its process group at the timeout), capturing
 * bounded output. Never rejects: failures are in the result.
 */
export function runCommand(
  binary: string,
  args: readonly string[],
  o: CommandOptions,
): Promise<CommandResult> {
  const max = o.maxOutput ?? 1 << 20;
  const started = performance.now();
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    let spawnError: Error | undefined;
    const child = spawn(binary, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    }, o.timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      if (outLen < max) out.push(b);
      outLen += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      if (errLen < max) err.push(b);
      errLen += b.length;
    });
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8').slice(0, max),
        stderr: Buffer.concat(err).toString('utf8').slice(0, max),
        timedOut,
        ...(spawnError ? { error: spawnError } : {}),
        durationMs: performance.now() - started,
      });
    });
  });
}
