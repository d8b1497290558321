import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { sharedSpawner } from './shared-spawner.ts';

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
  const child = start(binary, args, o.cwd);
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      const pid = child.pid();
      if (pid > 0) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
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
    void child.closed.then(({ code, signal, error }) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8').slice(0, max),
        stderr: Buffer.concat(err).toString('utf8').slice(0, max),
        timedOut,
        ...(error ? { error } : {}),
        durationMs: performance.now() - started,
      });
    });
  });
}

interface CommandChild {
  pid(): number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
}

/** Through berth-spawner when it is built (no fork of this process), else a detached child of this process. */
function start(binary: string, args: readonly string[], cwd: string | undefined): CommandChild {
  const spawner = sharedSpawner();
  if (spawner) {
    const c = spawner.spawn([binary, ...args], { cwd: cwd ?? process.cwd() });
    if (!c.stdout || !c.stderr) throw new Error('BUG: spawner gave no pipes');
    return { pid: () => c.pid, stdout: c.stdout, stderr: c.stderr, closed: c.closed };
  }
  const child = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  const closed = new Promise<Awaited<CommandChild['closed']>>((resolve) =>
    child.on('close', (code, signal) =>
      resolve({ code, signal, ...(spawnError ? { error: spawnError } : {}) }),
    ),
  );
  return { pid: () => child.pid ?? -1, stdout: child.stdout, stderr: child.stderr, closed };
}
