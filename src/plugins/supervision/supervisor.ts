/**
 * The plugin supervisor: starts a plugin's container through the injected {@link Executor} and waits until it
 * listens, stops it (TERM → grace → KILL), and when it exits on its own restarts it as the restart policy says,
 * on the injected {@link Clock}. Run states change only as the transition table allows.
 *
 * @module
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidParameterError, SystemError } from '../../errdefs/index.ts';
import {
  type Executor,
  type ExitStatus,
  type RunningContainer,
  type RuntimeHandle,
  removeBundle,
  writeBundle,
} from '../../executor/index.ts';
import { socketAddress, traceMark } from '../../host/index.ts';
import { type Probe, probeActivate } from '../health/index.ts';
import type { Plugin } from '../model/index.ts';
import {
  type PreflightFacts,
  pluginSpec,
  pluginSpecJson,
  preflightProblems,
  resolvePluginSpecInput,
} from '../spec/index.ts';
import { CappedLog } from '../store/index.ts';
import type { Clock } from './clock.ts';
import type { Entry } from './entry.ts';
import type { PluginEvent } from './events.ts';
import { HealthWatch } from './health-watch.ts';
import { type ActivateAnswer, askActivate, implementsMismatch, waitForSocket } from './readiness.ts';
import { decideRestart, gaveUpMessage, type RestartPolicy } from './restart-policy.ts';
import { nextRunState, type RunEvent } from './transitions.ts';

/** A runtime that can run now, with the handle its executor takes. */
type Runnable = { readonly name: string; readonly cli: RuntimeHandle };

/** The runtimes a plugin can run with: what the runtime registry offers the supervisor. */
export interface PluginRuntimes {
  /** @throws {NotFoundError} for an unknown runtime */
  lookup(name: string): unknown;
  /** A runtime that can run now, with the handle its executor takes. @throws when it cannot */
  runnable(name: string | undefined): Runnable | Promise<Runnable>;
}

/** Where a plugin's files are on the host. */
export interface PluginHostPaths {
  /** Bound at /run/docker/plugins in every plugin; holds one directory per plugin. */
  readonly socketRoot: string;
  socketDir(id: string): string;
  bundleDir(id: string): string;
  logPath(id: string): string;
  rootfs(id: string): string;
  propagatedMount(id: string): string;
}

export interface SupervisorOptions {
  readonly executor: Executor;
  readonly clock: Clock;
  readonly runtimes: PluginRuntimes;
  readonly preflight: PreflightFacts;
  readonly paths: PluginHostPaths;
  readonly policy: RestartPolicy;
  readonly readyTimeoutMs: number;
  readonly activateTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly logMaxBytes: number;
  /** The health probe (`POST /Plugin.Activate` unless a test brings its own). */
  readonly probe?: Probe;
  readonly healthClock?: Clock;
  /** Runs `work` under the plugin's lock (restarts queue behind commands). */
  readonly locked: <T>(e: Entry, work: () => Promise<T>) => Promise<T>;
  /** Whether the plugin is still installed (a restart due after a remove does nothing). */
  readonly isCurrent: (e: Entry) => boolean;
  readonly emit: (action: PluginEvent['Action'], plugin: Plugin, extra?: Record<string, string>) => void;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

const STDERR_TAIL_CHUNKS = 20;

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #health: HealthWatch;
  #closing = false;

  constructor(o: SupervisorOptions) {
    this.#o = o;
    this.#health = new HealthWatch({
      ...o,
      clock: o.healthClock ?? o.clock,
      probe: o.probe ?? probeActivate,
      socketDir: o.paths.socketDir,
      unhealthy: (e, why) => this.#recycle(e, why),
    });
  }

  /** Daemon shutdown: exits from now on are expected, nothing is restarted, nothing probed. */
  close(): void {
    this.#closing = true;
    this.#health.close();
  }

  /** The plugin's stored health settings changed: they apply to it at once if it runs. */
  healthChanged(e: Entry): void {
    this.#health.reconfigure(e);
  }

  /** Builds the spec, runs the container, waits for the socket. On failure nothing is left running. */
  async start(e: Entry, timeoutMs = this.#o.readyTimeoutMs): Promise<void> {
    const { runtime, bundle } = await this.#prepare(e);
    const { container, stderrTail } = this.#launch(e, runtime, bundle);
    try {
      await this.#awaitReady(e, container, timeoutMs, stderrTail);
    } catch (err) {
      // Whatever failed after the runtime started, the container must not outlive it unsupervised.
      if (!e.run.status.lastError) e.run.status.lastError = (err as Error).message;
      await this.#discard(e, container);
      throw err;
    }
    void container.exited.then((status) => this.#onExit(e, container, status));
    this.#health.running(e);
  }

  /**
   * Live restore: takes over the plugin's container if a previous berthd left it running and its socket still
   * answers (same pid, output into the same log). False when there is nothing to adopt; the caller starts it.
   */
  async adopt(e: Entry): Promise<boolean> {
    const executor = this.#o.executor;
    if (!executor.adopt) return false;
    const { plugin } = e.state;
    const runtime = await this.#o.runtimes.runnable(e.state.runtime);
    const container = await executor.adopt(runtime.cli, plugin.Id);
    if (!container) return false;
    const run = e.run;
    run.logFile ??= new CappedLog(this.#o.paths.logPath(plugin.Id), this.#o.logMaxBytes);
    run.container = container;
    run.stopping = false;
    this.#to(e, 'start');
    Object.assign(run.status, { runtime: runtime.name, lastError: '', warnings: [] });
    container.stdout?.on('data', (b: Buffer) => run.logFile?.write(b));
    container.stderr?.on('data', (b: Buffer) => run.logFile?.write(b));
    try {
      await this.#awaitReady(e, container, Math.min(this.#o.readyTimeoutMs, 2000), []);
    } catch (err) {
      this.#o.log(
        'warn',
        `plugin ${plugin.Name}: its running container does not answer (${(err as Error).message}); starting it again`,
      );
      await this.#discard(e, container);
      return false;
    }
    void container.exited.then((status) => this.#onExit(e, container, status));
    this.#health.running(e);
    this.#o.log('info', `plugin ${plugin.Name}: adopted its running container (pid ${container.runtimePid})`);
    return true;
  }

  /** Stops the container if there is one and cancels a pending restart; the plugin ends disabled. */
  async stop(e: Entry): Promise<void> {
    const run = e.run;
    run.cancelRestart?.();
    run.cancelRestart = undefined;
    run.stopping = true;
    this.#health.stopped(e);
    const c = run.container;
    if (c) {
      this.#to(e, 'stop');
      const status = await this.#o.executor.stop(c.runtime, c.id, this.#o.stopGraceMs);
      traceMark(c.id, 'exited');
      if (status) run.status.lastExitCode = status.code;
    }
    run.container = undefined;
    this.#to(e, 'stopped');
    run.status.pid = 0;
    run.logFile?.close();
    run.logFile = undefined;
    removeBundle(this.#o.paths.bundleDir(e.state.plugin.Id));
  }

  /** The runtime to use and a bundle with the plugin's spec, once the spec passes the host's preflight. */
  async #prepare(e: Entry): Promise<{ runtime: Runnable; bundle: string }> {
    const { plugin } = e.state;
    const paths = this.#o.paths;
    traceMark(plugin.Id, 'locked');
    const runtime = await this.#o.runtimes.runnable(e.state.runtime);
    traceMark(plugin.Id, 'runtime');
    const input = resolvePluginSpecInput(plugin, {
      rootfs: paths.rootfs(plugin.Id),
      execRoot: paths.socketRoot,
    });
    const problems = preflightProblems(pluginSpec(input), this.#o.preflight, plugin.Name);
    if (problems.length)
      throw new InvalidParameterError(`cannot enable plugin ${plugin.Name}: ${problems.join('; ')}`);
    traceMark(plugin.Id, 'spec');
    rmSync(join(paths.socketDir(plugin.Id), plugin.Config.Interface.Socket), { force: true });
    // The object above is for the checks; config.json gets the same JSON written straight (spec-json.ts).
    const bundle = writeBundle(paths.bundleDir(plugin.Id), pluginSpecJson(input));
    if (plugin.Config.PropagatedMount)
      mkdirSync(paths.propagatedMount(plugin.Id), { recursive: true, mode: 0o755 });
    traceMark(plugin.Id, 'bundle');
    return { runtime, bundle };
  }

  /** Starts the container with its output going to the plugin's log (and the last stderr kept for errors). */
  #launch(
    e: Entry,
    runtime: { name: string; cli: RuntimeHandle },
    bundle: string,
  ): { container: RunningContainer; stderrTail: Buffer[] } {
    const { plugin } = e.state;
    const run = e.run;
    run.logFile ??= new CappedLog(this.#o.paths.logPath(plugin.Id), this.#o.logMaxBytes);
    traceMark(plugin.Id, 'log');
    const stderrTail: Buffer[] = [];
    const container = this.#o.executor.start(runtime.cli, plugin.Id, bundle, 'pipe', {
      'berth.kind': 'plugin',
      'berth.plugin.id': plugin.Id,
    });
    run.container = container;
    run.stopping = false;
    this.#to(e, 'start');
    Object.assign(run.status, { runtime: runtime.name, lastError: '', warnings: [] });
    container.stdout?.on('data', (b: Buffer) => run.logFile?.write(b));
    container.stderr?.on('data', (b: Buffer) => {
      run.logFile?.write(b);
      stderrTail.push(b);
      if (stderrTail.length > STDERR_TAIL_CHUNKS) stderrTail.shift();
    });
    return { container, stderrTail };
  }

  /** Waits until the plugin listens and answers Activate (best effort). @throws {SystemError} with the reason */
  async #awaitReady(
    e: Entry,
    container: RunningContainer,
    timeoutMs: number,
    stderrTail: Buffer[],
  ): Promise<void> {
    const { plugin } = e.state;
    const socket = plugin.Config.Interface.Socket;
    const address = socketAddress(this.#o.paths.socketDir(plugin.Id), socket);
    try {
      const ready = await waitForSocket(address.path, container.exited, timeoutMs);
      traceMark(plugin.Id, 'socket');
      if (!ready.ready) {
        const exited = ready.why === 'timeout' ? undefined : await container.exited;
        const why = exited
          ? `plugin ${plugin.Name} ${exited.oomKilled ? `was ${OOM_KILLED}, ` : ''}exited with code ${exited.code} before listening on ${socket}`
          : `plugin ${plugin.Name} did not listen on ${socket} within ${timeoutMs} ms; its container was removed`;
        this.#to(e, 'start-failed');
        Object.assign(e.run.status, { pid: 0, lastError: why, lastExitCode: exited?.code ?? null });
        const tail = lastLines(Buffer.concat(stderrTail).toString('utf8'), 5);
        throw new SystemError(tail ? `${why}; last output:\n${tail}` : why);
      }
      const timeout = this.#o.activateTimeoutMs;
      const answer = await askActivate(address.path, timeout, ready.socket);
      traceMark(plugin.Id, 'activate');
      const warning = activateWarning(answer, plugin.Config.Interface.Types ?? [], timeout);
      this.#to(e, 'ready');
      Object.assign(e.run.status, {
        pid: container.runtimePid,
        startedAt: new Date(this.#o.clock.now()).toISOString(),
        warnings: warning ? [warning] : [],
      });
    } finally {
      address.close();
    }
  }

  /** Kills and deletes a container whose start failed, and forgets it. */
  async #discard(e: Entry, container: RunningContainer): Promise<void> {
    const status = await this.#o.executor.destroy(container);
    if (e.run.container === container) e.run.container = undefined;
    if (e.run.status.state !== 'disabled') {
      this.#to(e, 'start-failed');
      Object.assign(e.run.status, { pid: 0, lastExitCode: status.code });
    }
    removeBundle(this.#o.paths.bundleDir(e.state.plugin.Id));
  }

  /** An exit nobody asked for: counts as a failure unless the plugin is being stopped. */
  #onExit(e: Entry, container: RunningContainer, status: ExitStatus): void {
    const run = e.run;
    if (run.container !== container) return; // replaced or stopped meanwhile
    run.container = undefined;
    this.#health.stopped(e);
    removeBundle(this.#o.paths.bundleDir(e.state.plugin.Id));
    if (run.stopping || this.#closing) return;
    Object.assign(run.status, { pid: 0, lastExitCode: status.code });
    const reason = crashReason(status);
    this.#o.emit('crash', e.state.plugin, { exitCode: String(status.code), ...(reason ? { reason } : {}) });
    this.#failed(
      e,
      reason ? `${reason} (exit code ${status.code})` : `exited unexpectedly with code ${status.code}`,
    );
  }

  /** Restarts after the policy's backoff, or marks the plugin failed after too many failures in the window. */
  #failed(e: Entry, why: string): void {
    const { policy, clock } = this.#o;
    const run = e.run;
    const decision = decideRestart(policy, run.failures, clock.now());
    run.failures = [...decision.failures];
    run.status.lastError = why;
    const name = e.state.plugin.Name;
    if (decision.kind === 'give-up') {
      const msg = gaveUpMessage(policy, why, decision.failures.length);
      this.#to(e, 'give-up');
      run.status.lastError = msg;
      this.#o.log('error', `plugin ${name} ${msg}`);
      this.#o.emit('failed', e.state.plugin);
      return;
    }
    this.#to(e, 'backoff');
    this.#o.log('warn', `plugin ${name} ${why}; restarting in ${decision.delayMs} ms`);
    run.cancelRestart = clock.schedule(decision.delayMs, () => {
      run.cancelRestart = undefined;
      void this.#restart(e);
    });
  }

  /** A plugin that turned unhealthy: its container is stopped, then it restarts as after a crash (same backoff). */
  #recycle(e: Entry, why: string): void {
    const name = e.state.plugin.Name;
    const unhealthy = e.run.container; // the one the probes found unhealthy: never a later one
    void this.#o
      .locked(e, async () => {
        const run = e.run;
        const c = run.container;
        if (!c || c !== unhealthy || run.stopping || this.#closing || run.status.state !== 'running') return;
        run.container = undefined; // its exit is this restart's, not a crash
        this.#health.stopped(e);
        this.#to(e, 'stop');
        const status = await this.#o.executor.stop(c.runtime, c.id, this.#o.stopGraceMs);
        this.#to(e, 'stopped');
        Object.assign(run.status, { pid: 0, lastExitCode: status?.code ?? null });
        removeBundle(this.#o.paths.bundleDir(e.state.plugin.Id));
        this.#failed(e, why);
      })
      .catch((err: Error) =>
        this.#o.log('error', `plugin ${name}: stopping it after it turned unhealthy failed: ${err.message}`),
      );
  }

  #restart(e: Entry): Promise<void> {
    return this.#o
      .locked(e, async () => {
        const run = e.run;
        const wanted = this.#o.isCurrent(e) && e.state.plugin.Enabled;
        if (!wanted || run.container || run.stopping || this.#closing) return;
        run.status.restarts++;
        await this.start(e);
        this.#o.emit('restart', e.state.plugin);
      })
      .catch((err: Error) => this.#failed(e, `restart failed: ${err.message}`));
  }

  #to(e: Entry, event: RunEvent): void {
    e.run.status.state = nextRunState(e.run.status.state, event);
  }
}

/** A hung plugin accepts connections but never answers: say so, it will hang every call made to it. */
function activateWarning(
  answer: ActivateAnswer,
  types: readonly string[],
  timeoutMs: number,
): string | undefined {
  if (!answer.answered) {
    return answer.why === 'timeout'
      ? `Plugin.Activate did not answer within ${timeoutMs} ms: the plugin accepts connections but may be hung, and calls to it may time out`
      : undefined;
  }
  return answer.implements && implementsMismatch(types, answer.implements);
}

/** What the cgroup says killed the plugin, when it says anything: the OOM killer, not a guess from exit 137. */
export function crashReason(status: ExitStatus): string | undefined {
  return status.oomKilled ? OOM_KILLED : undefined;
}

/** The words `crash` events and Status use for a plugin the kernel killed for memory. */
export const OOM_KILLED = 'killed: out of memory';

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
