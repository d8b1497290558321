/**
 * Runs OCI bundles with a runc-compatible CLI. A container is a foreground `run`: the runtime process stays
 * the parent of the container's init, forwards signals and exits with its status, which is how berth learns
 * the exit code without being a subreaper (Node cannot become one). Output goes to a log file or through
 * berth-spawner's pipes. When berthd dies (or stops with live restore) berth-spawner keeps the `runc run`
 * processes it started and their pipes: the next berthd adopts those it restores ({@link RuncExecutor.adopt}),
 * and reconciles the rest of what it finds under the runtime root.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, NotFoundError, SystemError } from '../errdefs/index.ts';
import { traceMark } from '../host/index.ts';
import { runCommand } from './command.ts';
import type {
  ContainerOutput,
  ContainerState,
  Executor,
  ExitStatus,
  ReconcileOptions,
  RunningContainer,
} from './executor.ts';
import { shellExitCode } from './exit-code.ts';
import { readOomKills, stateRoot } from './oom.ts';
import {
  deleteArgs,
  isRunOf,
  killArgs,
  listArgs,
  type RuncCli,
  runArgs,
  stateArgs,
  withGlobals,
} from './runc-args.ts';
import { sharedSpawner } from './shared-spawner.ts';
import type { SpawnedChild, Spawner, Survivor } from './spawner.ts';

/** SIGKILL to a detached process's group (the runtime and whatever it started before it made a container). */
function killGroup(pid: number): void {
  try {
    if (pid > 0) process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A runtime process just started, however it was spawned. */
interface Started {
  pid(): number;
  /** Signals the runtime process itself while it runs, race-free against the pid's reuse; false if it cannot. */
  kill(signal: NodeJS.Signals): boolean;
  readonly exited: Promise<ExitStatus>;
  readonly stdout?: Readable | undefined;
  readonly stderr?: Readable | undefined;
}

/** Through berth-spawner: no fork of berthd. */
function spawnThrough(spawner: Spawner, argv: string[], cwd: string, output: ContainerOutput): Started {
  return startedOf(spawner.spawn(argv, { cwd, ...(output === 'pipe' ? {} : { logPath: output.logPath }) }));
}

function startedOf(child: SpawnedChild): Started {
  const exited = child.closed.then(({ code, signal, error }): ExitStatus => {
    if (error) return { code: 127, signal: null, at: new Date(), error: error.message };
    return { code: shellExitCode(code, signal), signal, at: new Date() };
  });
  return {
    pid: () => child.pid,
    kill: (signal) => child.kill(signal),
    exited,
    stdout: child.stdout,
    stderr: child.stderr,
  };
}

/** berthd forks the runtime itself (no berth-spawner built). Own process group: a Ctrl-C aimed at berthd must not reach the container. */
function spawnHere(binary: string, argv: string[], cwd: string, output: ContainerOutput): Started {
  const logFd = output === 'pipe' ? undefined : openSync(output.logPath, 'a', 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    const stdio = logFd === undefined ? 'pipe' : logFd;
    child = spawn(binary, argv, { cwd, stdio: ['ignore', stdio, stdio], detached: true });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('error', (err) => resolve({ code: 127, signal: null, at: new Date(), error: err.message }));
    // 'close', not 'exit': with piped output, every byte has been read by then.
    child.on('close', (code, signal) => {
      resolve({ code: shellExitCode(code, signal), signal, at: new Date() });
    });
  });
  return {
    pid: () => child.pid ?? -1,
    // node reaps the child itself and refuses to signal it afterwards: no pid reuse to fear
    kill: (signal) => child.exitCode === null && child.signalCode === null && child.kill(signal),
    exited,
    stdout: child.stdout ?? undefined,
    stderr: child.stderr ?? undefined,
  };
}

/** A container RuncExecutor started: the runtime handle is a runc-compatible CLI invocation. */
export type RuncContainer = RunningContainer<RuncCli>;

/** What the executor keeps of a container it runs: the runtime process can be signalled too. */
interface Tracked extends RuncContainer {
  readonly signalRuntime: Started['kill'];
}

const COMMAND_TIMEOUT_MS = 10_000;

export class RuncExecutor implements Executor<RuncCli> {
  readonly #running = new Map<string, Tracked>();

  /**
   * Starts `bundle` as container `id`, its stdout and stderr appended to a log file or piped.
   * @throws {ConflictError} when this executor already runs a container with that id
   */
  start(cli: RuncCli, id: string, bundle: string, output: ContainerOutput): RuncContainer {
    if (this.#running.has(id)) throw new ConflictError(`container ${id} is already running`);
    const argv = withGlobals(cli, runArgs(id, { bundle, noPivot: cli.noPivot, keep: cli.keep === true }));
    if (output !== 'pipe') mkdirSync(dirname(output.logPath), { recursive: true, mode: 0o700 });
    traceMark(id, 'spawn-call');
    const spawner = sharedSpawner();
    const started = spawner
      ? spawnThrough(spawner, [cli.binary, ...argv], bundle, output)
      : spawnHere(cli.binary, argv, bundle, output);
    traceMark(id, 'spawned');
    return this.#track(cli, id, started);
  }

  /**
   * Live restore: the `runc run` of `id` through `cli` that berth-spawner kept running while no berthd was there
   * is supervised again (same pid, its output from where the previous berthd stopped reading). Undefined when
   * there is none; one that ended meanwhile is deleted (a `--keep` container stays until then).
   */
  async adopt(cli: RuncCli, id: string): Promise<RuncContainer | undefined> {
    if (this.#running.has(id)) throw new ConflictError(`container ${id} is already running`);
    const spawner = sharedSpawner();
    const found = spawner && survivorOf(spawner, cli, id);
    const child = found && spawner.claim(found[0]);
    if (!found || !child) return undefined;
    if (found[1].exited) {
      child.stdout?.resume();
      child.stderr?.resume();
      await child.closed;
      await this.delete(cli, id, { force: true }).catch(() => undefined);
      return undefined;
    }
    return this.#track(cli, id, startedOf(child));
  }

  #track(cli: RuncCli, id: string, started: Started): RuncContainer {
    const exited = started.exited
      .then((status) => (cli.keep ? this.#afterKeptExit(cli, id, status) : status))
      .finally(() => this.#running.delete(id));
    const container: Tracked = {
      id,
      runtime: cli,
      get runtimePid() {
        return started.pid();
      },
      signalRuntime: started.kill,
      exited,
      ...(started.stdout && started.stderr ? { stdout: started.stdout, stderr: started.stderr } : {}),
    };
    this.#running.set(id, container);
    return container;
  }

  /** A `--keep` container has exited: what its cgroup says of the OOM killer, then the container goes. */
  async #afterKeptExit(cli: RuncCli, id: string, status: ExitStatus): Promise<ExitStatus> {
    const root = stateRoot(cli.globalArgs);
    const kills = root === undefined ? undefined : readOomKills(root, id);
    await this.delete(cli, id, { force: true }).catch(() => undefined);
    return kills ? { ...status, oomKilled: true } : status;
  }

  /** Containers this executor started that are still running. */
  running(): ReadonlyMap<string, RuncContainer> {
    return this.#running;
  }

  /** Kills every container this executor started (daemon shutdown) and waits for them to end. */
  async killAll(): Promise<void> {
    await Promise.all([...this.#running.values()].map((c) => this.destroy(c)));
  }

  /**
   * Kills a container this executor started, whatever stage it is in, and waits until it is gone and deleted.
   * Right after `start` the runtime may not have created it yet, and `kill` then fails: it is retried until it
   * works or the runtime exits; after `giveUpMs` the runtime's own process group is killed.
   */
  async destroy(c: RuncContainer, giveUpMs = 5000): Promise<ExitStatus> {
    let gone = false;
    void c.exited.then(() => {
      gone = true;
    });
    const deadline = Date.now() + giveUpMs;
    while (!gone) {
      if (
        await this.kill(c.runtime, c.id, 'SIGKILL').then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline) {
        killGroup(c.runtimePid);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const status = await c.exited;
    await this.delete(c.runtime, c.id, { force: true }).catch(() => undefined);
    return status;
  }

  /** Sends a signal to the container's init (through the runtime, so it works for adopted containers too). */
  async kill(cli: RuncCli, id: string, signal: NodeJS.Signals): Promise<void> {
    const r = await runCommand(cli.binary, withGlobals(cli, killArgs(id, signal)), {
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    if (r.code !== 0) throw runtimeError(`kill ${id} ${signal}`, r.stderr || r.error?.message);
  }

  /**
   * Stops a container: SIGTERM, then SIGKILL after `graceMs` if it is still running. Resolves with its exit
   * status when this executor started it, or undefined for a container it only found on disk.
   */
  async stop(cli: RuncCli, id: string, graceMs: number): Promise<ExitStatus | undefined> {
    const mine = this.#running.get(id);
    // A foreground `runc run` forwards the signal to the container's init, which is what `runc kill` does: one
    // runc process less on every stop. SIGKILL cannot be forwarded (it would kill the runtime): always `kill`.
    // runc catches signals from before it starts the container's init, and callers stop only started ones.
    const forwarded = mine?.runtime.forwardsSignals === true && mine.signalRuntime('SIGTERM');
    if (!forwarded) await this.kill(cli, id, 'SIGTERM').catch(ignoreGone);
    traceMark(id, 'killed');
    if (mine) {
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([mine.exited, timer])) !== 'timeout') return mine.exited;
      await this.kill(cli, id, 'SIGKILL').catch(ignoreGone);
      return mine.exited;
    }
    await this.delete(cli, id, { force: true });
    return undefined;
  }

  /** Deletes a stopped container's state (`force` also kills a running one). */
  async delete(cli: RuncCli, id: string, o: { force?: boolean } = {}): Promise<void> {
    const r = await runCommand(cli.binary, withGlobals(cli, deleteArgs(id, o)), {
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) {
      throw runtimeError(`delete ${id}`, r.stderr || r.error?.message);
    }
  }

  /** @throws {NotFoundError} when the runtime does not know the container */
  async state(cli: RuncCli, id: string): Promise<ContainerState> {
    const r = await runCommand(cli.binary, withGlobals(cli, stateArgs(id)), {
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    if (r.code !== 0) {
      if (/does not exist|not found/i.test(r.stderr)) throw new NotFoundError(`No such container: ${id}`);
      throw runtimeError(`state ${id}`, r.stderr || r.error?.message);
    }
    return JSON.parse(r.stdout) as ContainerState;
  }

  /** Every container the runtime knows under its root. */
  async list(cli: RuncCli): Promise<ContainerState[]> {
    const r = await runCommand(cli.binary, withGlobals(cli, listArgs()), { timeoutMs: COMMAND_TIMEOUT_MS });
    if (r.code !== 0) throw runtimeError('list', r.stderr || r.error?.message);
    return (JSON.parse(r.stdout || 'null') as ContainerState[] | null) ?? [];
  }

  /**
   * Removes every container under the runtime's root that this executor did not start: what a previous berthd
   * left when it died. `spare` keeps those of them the caller may adopt next, when berth-spawner still runs
   * them. Returns the ids removed.
   */
  async reconcile(cli: RuncCli, o: ReconcileOptions = {}): Promise<string[]> {
    const spawner = sharedSpawner();
    const adoptable = (c: ContainerState) =>
      o.spare?.(c) === true && spawner !== undefined && survivorOf(spawner, cli, c.id)?.[1].exited === false;
    const leftovers = (await this.list(cli)).filter((c) => !this.#running.has(c.id) && !adoptable(c));
    await Promise.all(leftovers.map((c) => this.delete(cli, c.id, { force: true })));
    return leftovers.map((c) => c.id);
  }
}

/** The survivor berth-spawner kept that is the `runc run` of `id` through `cli`, with its tag. */
function survivorOf(spawner: Spawner, cli: RuncCli, id: string): [number, Survivor] | undefined {
  for (const entry of spawner.survivors()) if (isRunOf(cli, id, entry[1].argv)) return entry;
  return undefined;
}

function ignoreGone(err: unknown): void {
  if (
    err instanceof SystemError &&
    /not running|does not exist|not found|process already finished/i.test(err.message)
  )
    return;
  throw err;
}

function runtimeError(what: string, detail: string | undefined): SystemError {
  return new SystemError(`runtime ${what} failed: ${(detail ?? '').trim() || 'no output'}`);
}
