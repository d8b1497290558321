/**
 * Spawning runtimes through berth-spawner (native/berth-spawner.c), a ~1 MiB helper process that forks and
 * execs for berthd: a fork copies the parent's page tables, so every `runc` berthd (~100 MiB) forks itself costs
 * it 5–15 ms of its only thread, more with a bigger heap and on hosts where page-table copies are slow (VMs),
 * while the helper's fork costs tens of microseconds. One helper serves the whole process; children keep
 * berthd's semantics (own session, stdin /dev/null, stdout/stderr piped or appended to a log file, exit code
 * and signal once their output is read). Where the helper is not built (or `BERTHD_SPAWNER=off`),
 * `sharedSpawner()` (shared-spawner.ts) is undefined and callers spawn with node:child_process as before.
 *
 * berthd gives the helper a rendezvous socket in its exec root (`useRendezvous()`): the helper then outlives a
 * berthd that dies or stops with live restore, keeps reading its children's output (plugins whose stdout is a
 * pipe must neither block nor die of SIGPIPE meanwhile), and hands them to the next berthd, which adopts the
 * plugins' containers instead of deleting and restarting them (runc-executor.ts).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { constants as osConstants } from 'node:os';
import { PassThrough, type Readable, type Writable } from 'node:stream';

/** A child started through the spawner. */
export interface SpawnedChild {
  /** The child's pid once the spawner reported it (-1 before, or when it could not start). */
  readonly pid: number;
  readonly stdout?: PassThrough;
  readonly stderr?: PassThrough;
  /** Resolves once it exited and its output was read (or with `error` when it could not start). */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  /**
   * Asks the helper to signal the child, which it does only if it has not reaped it yet (so never a process
   * that reused the pid). False when that cannot be asked: the helper is gone or the child's exit is known.
   */
  kill(signal: NodeJS.Signals): boolean;
}

type Closed = Awaited<SpawnedChild['closed']>;

interface Pending {
  readonly binary: string;
  pid: number;
  stdout?: PassThrough;
  stderr?: PassThrough;
  resolve: (c: Closed) => void;
  /** What the caller holds. */
  readonly child: SpawnedChild;
}

/** A child a previous berthd started that the spawner kept running for the next one (live restore). */
export interface Survivor {
  readonly pid: number;
  readonly argv: readonly string[];
  /** It had already exited when this berthd attached (its exit status is in `child.closed`). */
  readonly exited: boolean;
  readonly child: SpawnedChild;
}

/** The channel to the helper: its stdin/stdout, or a connection to its rendezvous socket. */
interface Channel {
  readonly input: Readable;
  readonly output: Writable;
  ref(): void;
  unref(): void;
}

export const PROTOCOL_VERSION = 2;
/** Each event's least length: type, tag, then its i32 fields (berth-spawner.c's protocol). */
const MIN_FRAME: Readonly<Record<string, number>> = { P: 9, F: 9, X: 13, H: 13, C: 13 };

export class Spawner {
  readonly #channel: Channel;
  readonly #pending = new Map<number, Pending>();
  readonly #survivors = new Map<number, Survivor>();
  #nextTag = 1;
  #buffer: Buffer = Buffer.alloc(0);
  #dead: Error | undefined;
  #onListed: ((version: number) => void) | undefined;
  #version = 0;

  /** Starts the helper; with `rendezvous` it outlives this process while its children run (berth-spawner.c). */
  static start(binary: string, rendezvous?: string): Spawner {
    // With a rendezvous the helper is meant to outlive berthd: its own session, so that a signal to berthd's
    // process group (Ctrl-C) does not reach it, and no inherited stderr that would hold berthd's open.
    const child = spawn(binary, rendezvous ? ['--rendezvous', rendezvous] : [], {
      stdio: ['pipe', 'pipe', rendezvous ? 'ignore' : 'inherit'],
      detached: rendezvous !== undefined,
    });
    const stdin = child.stdin as Writable;
    const stdout = child.stdout as Readable;
    const spawner = new Spawner({
      input: stdout,
      output: stdin,
      ref: () => {
        for (const h of [child, stdin, stdout]) (h as unknown as Handle).ref?.();
      },
      unref: () => {
        for (const h of [child, stdin, stdout]) (h as unknown as Handle).unref?.();
      },
    });
    child.on('error', (err) => spawner.#onDeath(err));
    child.on('exit', (code, signal) =>
      spawner.#onDeath(new Error(`berth-spawner exited (${signal ?? `code ${code}`})`)),
    );
    return spawner;
  }

  /**
   * Connects to the helper a previous berthd left at `rendezvous`, which hands over the children it kept
   * running. Undefined when there is none (no socket, nobody listening), it does not answer in time, or it speaks
   * another protocol version (then `otherVersion` hears which).
   */
  static async attach(
    rendezvous: string,
    timeoutMs = 2000,
    otherVersion?: (version: number) => void,
  ): Promise<Spawner | undefined> {
    const socket = connect(rendezvous);
    const spawner = new Spawner({
      input: socket,
      output: socket,
      ref: () => socket.ref(),
      unref: () => socket.unref(),
    });
    socket.on('close', () => spawner.#onDeath(new Error('berth-spawner closed its connection')));
    let timer: NodeJS.Timeout | undefined;
    const version = await new Promise<number | undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      socket.on('error', () => resolve(undefined));
      spawner.#onListed = resolve;
    }).finally(() => clearTimeout(timer));
    if (version === PROTOCOL_VERSION) return spawner;
    if (version) otherVersion?.(version);
    socket.destroy();
    return undefined;
  }

  private constructor(channel: Channel) {
    this.#channel = channel;
    channel.input.on('data', (b: Buffer) => this.#onData(b));
    channel.output.on('error', () => undefined); // the close or exit handler reports it
    this.#idle();
  }

  /** The helper exited or was closed: spawns fail at once (the process's next use starts another). */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** The children a previous berthd left running, by tag, until {@link claim}ed; known once attached. */
  survivors(): ReadonlyMap<number, Survivor> {
    return this.#survivors;
  }

  /** Takes a survivor over: its output and exit come to the caller from now on. */
  claim(tag: number): SpawnedChild | undefined {
    const s = this.#survivors.get(tag);
    this.#survivors.delete(tag);
    return s?.child;
  }

  /** Survivors nobody claimed (their containers are being deleted): their output is read and dropped. */
  releaseUnclaimed(): void {
    for (const [tag, s] of this.#survivors) {
      s.child.stdout?.resume();
      s.child.stderr?.resume();
      this.#survivors.delete(tag);
    }
  }

  /** Starts `argv[0]` (looked up in PATH) with `argv` in `cwd`; output piped, or appended to `logPath`. */
  spawn(argv: readonly string[], o: { cwd: string; logPath?: string }): SpawnedChild {
    const tag = this.#nextTag++;
    const p = newPending(argv[0] ?? '', o.logPath === undefined, (sig) => this.#signal(tag, sig));
    if (this.#dead) {
      p.resolve({ code: null, signal: null, error: this.#dead });
    } else {
      this.#pending.set(tag, p);
      this.#busy();
      const body = Buffer.from([o.cwd, o.logPath ?? '', ...argv].map((s) => `${s}\0`).join(''));
      this.#channel.output.write(request('S', tag, body));
    }
    return p.child;
  }

  /**
   * Ends this process's use of the helper: its children go on running (with a rendezvous so does the helper, for
   * the next berthd), so their `closed` never settles here: their exits are the next berthd's to see.
   */
  close(): void {
    this.#channel.output.end();
    this.#dead ??= new Error('berth-spawner was closed');
    this.#pending.clear();
    this.#idle();
  }

  #signal(tag: number, signal: NodeJS.Signals): boolean {
    if (this.#dead || !this.#pending.has(tag)) return false;
    const number = Buffer.alloc(4);
    number.writeInt32LE(osConstants.signals[signal]);
    this.#channel.output.write(request('K', tag, number));
    return true;
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
    if (f.length < (MIN_FRAME[type] ?? 5)) return; // not from this protocol's helper: never read past its end
    const tag = f.readUInt32LE(1);
    if (type === 'H') {
      this.#version = f.readInt32LE(5);
      this.#nextTag = f.readUInt32LE(9) + 1;
      return;
    }
    if (type === 'R') {
      this.#onListed?.(this.#version);
      return;
    }
    if (type === 'C') {
      this.#onSurvivor(tag, f);
      return;
    }
    const p = this.#pending.get(tag);
    if (!p) return;
    if (type === 'P') p.pid = f.readInt32LE(5);
    else if (type === 'O') p.stdout?.write(Buffer.from(f.subarray(5)));
    else if (type === 'E') p.stderr?.write(Buffer.from(f.subarray(5)));
    else if (type === 'F') this.#finish(tag, p, { code: null, signal: null, error: spawnError(p.binary, f) });
    else if (type === 'X') {
      const code = f.readInt32LE(5);
      const signal = f.readInt32LE(9);
      this.#finish(tag, p, { code: code < 0 ? null : code, signal: signal ? signalName(signal) : null });
    }
  }

  /** 'C': pid, reaped, argv. Always piped: survivors are plugins (a log-file child sends no output anyway). */
  #onSurvivor(tag: number, f: Buffer): void {
    const argv = f.subarray(13).toString().split('\0').slice(0, -1);
    const p = newPending(argv[0] ?? '', true, (sig) => this.#signal(tag, sig));
    p.pid = f.readInt32LE(5);
    this.#pending.set(tag, p);
    this.#busy();
    this.#survivors.set(tag, { pid: p.pid, argv, exited: f.readInt32LE(9) !== 0, child: p.child });
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
    this.#onListed?.(0);
    for (const [tag, p] of this.#pending) this.#finish(tag, p, { code: null, signal: null, error: err });
  }

  /** The helper does not keep the process alive by itself, only while one of its children runs. */
  #idle(): void {
    this.#channel.unref();
  }

  #busy(): void {
    this.#channel.ref();
  }
}

interface Handle {
  ref?: () => void;
  unref?: () => void;
}

/** A request frame: u32 length, then type, u32 tag and the body (berth-spawner.c's protocol). */
function request(type: 'S' | 'K', tag: number, body: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt32LE(body.length + 5, 0);
  head.write(type, 4, 'latin1');
  head.writeUInt32LE(tag, 5);
  return Buffer.concat([head, body]);
}

function newPending(binary: string, piped: boolean, kill: SpawnedChild['kill']): Pending {
  let resolve!: (c: Closed) => void;
  const closed = new Promise<Closed>((r) => {
    resolve = r;
  });
  const stdout = piped ? new PassThrough() : undefined;
  const stderr = piped ? new PassThrough() : undefined;
  const p: Pending = {
    binary,
    pid: -1,
    resolve,
    ...(stdout && stderr ? { stdout, stderr } : {}),
    child: {
      get pid() {
        return p.pid;
      },
      ...(stdout && stderr ? { stdout, stderr } : {}),
      closed,
      kill,
    },
  };
  return p;
}

/** An 'F' event, worded as node:child_process words it ("spawn runc ENOENT"): callers show it as is. */
function spawnError(binary: string, f: Buffer): Error {
  const errno = f.readInt32LE(5);
  const code = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
  const step = f.subarray(9).toString();
  return Object.assign(new Error(`spawn ${binary} ${code}${step === 'exec' ? '' : ` (${step})`}`), {
    errno: -errno,
    code,
  });
}

function signalName(n: number): NodeJS.Signals | null {
  const found = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return (found?.[0] as NodeJS.Signals | undefined) ?? null;
}
