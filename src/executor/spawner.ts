/**
 * Spawning runtimes through berth-spawner (native/berth-spawner.c), a ~1 MiB helper process that forks and
 * execs for berthd: a fork copies the parent's page tables, so every `runc` berthd (~100 MiB) forks itself costs
 * it 5–15 ms of its only thread, more with a bigger heap and on hosts where page-table copies are slow (VMs),
 * while the helper's fork costs tens of microseconds. One helper serves the whole process; children keep
 * berthd's semantics (own session, stdin /dev/null, stdout/stderr piped or appended to a log file, exit code
 * and signal once their output is read). Where the helper is not built (or `BERTHD_SPAWNER=off`),
 * {@link sharedSpawner} is undefined and callers spawn with node:child_process as before.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { PassThrough } from 'node:stream';

/** A child started through the spawner. */
export interface SpawnedChild {
  /** The child's pid once the spawner reported it (-1 before, or when it could not start). */
  readonly pid: number;
  readonly stdout?: PassThrough;
  readonly stderr?: PassThrough;
  /** Resolves once it exited and its output was read (or with `error` when it could not start). */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
}

type Closed = Awaited<SpawnedChild['closed']>;

interface Pending {
  readonly binary: string;
  pid: number;
  stdout?: PassThrough;
  stderr?: PassThrough;
  resolve: (c: Closed) => void;
}

/** Where setup builds the helper: `native/berth-spawner` at the package root (from src/ or dist/ alike). */
const HELPER = new URL('../../native/berth-spawner', import.meta.url).pathname;

export class Spawner {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextTag = 1;
  #buffer: Buffer = Buffer.alloc(0);
  #dead: Error | undefined;

  constructor(binary: string) {
    this.#child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#child.stdout?.on('data', (b: Buffer) => this.#onData(b));
    this.#child.on('error', (err) => this.#onDeath(err));
    this.#child.on('exit', (code, signal) =>
      this.#onDeath(new Error(`berth-spawner exited (${signal ?? `code ${code}`})`)),
    );
    this.#child.stdin?.on('error', () => undefined); // the exit handler reports it
    this.#idle();
  }

  /** Starts `argv[0]` (looked up in PATH) with `argv` in `cwd`; output piped, or appended to `logPath`. */
  spawn(argv: readonly string[], o: { cwd: string; logPath?: string }): SpawnedChild {
    const tag = this.#nextTag++;
    const piped = o.logPath === undefined;
    let resolve!: (c: Closed) => void;
    const closed = new Promise<Closed>((r) => {
      resolve = r;
    });
    const p: Pending = {
      binary: argv[0] ?? '',
      pid: -1,
      resolve,
      ...(piped ? { stdout: new PassThrough(), stderr: new PassThrough() } : {}),
    };
    if (this.#dead) {
      resolve({ code: null, signal: null, error: this.#dead });
    } else {
      this.#pending.set(tag, p);
      this.#busy();
      const body = Buffer.from([o.cwd, o.logPath ?? '', ...argv].map((s) => `${s}\0`).join(''));
      const head = Buffer.alloc(9);
      head.writeUInt32LE(body.length + 5, 0);
      head.write('S', 4, 'latin1');
      head.writeUInt32LE(tag, 5);
      this.#child.stdin?.write(Buffer.concat([head, body]));
    }
    return {
      get pid() {
        return p.pid;
      },
      ...(p.stdout && p.stderr ? { stdout: p.stdout, stderr: p.stderr } : {}),
      closed,
    };
  }

  /** Ends the helper (its children go on running). */
  close(): void {
    this.#child.stdin?.end();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    let off = 0;
    while (this.#buffer.length - off >= 4) {
      const len = this.#buffer.readUInt32LE(off);
      if (this.#buffer.length - off - 4 < len) break;
      this.#onEvent(this.#buffer.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    this.#buffer = this.#buffer.subarray(off);
  }

  #onEvent(f: Buffer): void {
    const type = String.fromCharCode(f[0] ?? 0);
    const p = this.#pending.get(f.readUInt32LE(1));
    if (!p) return;
    if (type === 'P') p.pid = f.readInt32LE(5);
    else if (type === 'O') p.stdout?.write(Buffer.from(f.subarray(5)));
    else if (type === 'E') p.stderr?.write(Buffer.from(f.subarray(5)));
    else if (type === 'F') {
      // Worded as node:child_process words it ("spawn runc ENOENT"): callers show it as is.
      const errno = f.readInt32LE(5);
      const code = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
      const step = f.subarray(9).toString();
      const err = Object.assign(
        new Error(`spawn ${p.binary} ${code}${step === 'exec' ? '' : ` (${step})`}`),
        {
          errno: -errno,
          code,
        },
      );
      this.#finish(f.readUInt32LE(1), p, { code: null, signal: null, error: err });
    } else if (type === 'X') {
      const code = f.readInt32LE(5);
      const signal = f.readInt32LE(9);
      this.#finish(f.readUInt32LE(1), p, {
        code: code < 0 ? null : code,
        signal: signal ? signalName(signal) : null,
      });
    }
  }

  #finish(tag: number, p: Pending, closed: Closed): void {
    this.#pending.delete(tag);
    if (!this.#pending.size) this.#idle();
    for (const s of [p.stdout, p.stderr]) s?.end();
    // Like a child's 'close': every byte of its output has been handed to the readers by then (a stream
    // nobody reads keeps what is left for a late reader, and is not waited for).
    const streams = [p.stdout, p.stderr].filter(
      (s): s is PassThrough => s !== undefined && s.readableFlowing === true && !s.readableEnded,
    );
    void Promise.all(streams.map((s) => new Promise((r) => s.once('end', r)))).then(() => p.resolve(closed));
  }

  #onDeath(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    if (shared === this) shared = undefined;
    for (const [tag, p] of this.#pending) this.#finish(tag, p, { code: null, signal: null, error: err });
  }

  /** The helper does not keep the process alive by itself, only while one of its children runs. */
  #idle(): void {
    this.#child.unref();
    (this.#child.stdout as unknown as { unref?: () => void })?.unref?.();
    (this.#child.stdin as unknown as { unref?: () => void })?.unref?.();
  }

  #busy(): void {
    this.#child.ref();
    (this.#child.stdout as unknown as { ref?: () => void })?.ref?.();
    (this.#child.stdin as unknown as { ref?: () => void })?.ref?.();
  }
}

function signalName(n: number): NodeJS.Signals | null {
  const found = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return (found?.[0] as NodeJS.Signals | undefined) ?? null;
}

let shared: Spawner | undefined;
let looked = false;

/** The process's spawner, started on first use; undefined when the helper is not built or is turned off. */
export function sharedSpawner(): Spawner | undefined {
  if (shared) return shared;
  if (looked) return undefined;
  looked = true;
  const setting = process.env.BERTHD_SPAWNER;
  if (setting === 'off') return undefined;
  const binary = setting || HELPER;
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    return undefined;
  }
  shared = new Spawner(binary);
  looked = false; // a helper that dies is replaced at the next use
  return shared;
}
