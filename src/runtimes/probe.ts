/**
 * Health probes of one runtime: binary found and executable, `--version`, `features` (an absent command is
 * fine: crun 1.8 and runsc have none), and an optional smoke run of a tiny read-only bundle under a private
 * state root. Every step has a deadline, so a hanging runtime costs at most its timeout; steps run in
 * parallel. Nothing here throws: the outcome is a {@link RuntimeProbe}.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  type CommandResult,
  deleteArgs,
  type ExitStatus,
  globalArgs,
  removeBundle,
  runArgs,
  runCommand,
  withGlobals,
  writeBundle,
} from '../executor/index.ts';
import { findExecutable } from '../host/index.ts';
import { containerSpec, type Mount } from '../oci/index.ts';
import type { ResolvedRuntime, RuncRuntime, ShimRuntime } from './resolve.ts';

export type RuntimeHealth = 'ok' | 'degraded' | 'unavailable';

/** What the last probe found. */
export interface RuntimeProbe {
  readonly health: RuntimeHealth;
  /** Why the runtime is degraded or unavailable. */
  readonly reason?: string;
  /** Resolved binary path. */
  readonly binary?: string;
  /** First line of `--version`. */
  readonly version?: string;
  /** The OCI features document; null when the runtime has no `features` command. */
  readonly features?: Readonly<Record<string, unknown>> | null;
  readonly smokeTest?: { readonly ok: boolean; readonly ms: number; readonly error?: string };
  readonly probedAt: string;
  readonly durationMs: number;
}

export interface ProbeOptions {
  /** Deadline of `--version` and `features`. */
  readonly commandTimeoutMs: number;
  /** Run a container; undefined skips the smoke test. */
  readonly smokeTest?: { readonly dir: string; readonly timeoutMs: number };
  /**
   * Runs the smoke bundle of a containerd shim runtime through containerd (the containerd executor); without it,
   * shim runtimes are unavailable: nothing here can run them.
   */
  readonly shimSmoke?: (
    rt: ShimRuntime,
    bundle: string,
    id: string,
    timeoutMs: number,
  ) => Promise<ExitStatus>;
}

/** Host directories bound read-only into the smoke container so `/bin/true` runs without an image. */
const SMOKE_HOST_DIRS = ['/usr', '/bin', '/lib', '/lib64', '/sbin'];

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? ''
  );
}

/** The runtime's own words: last non-empty stderr line (runc/crun print the cause last), else the spawn error. */
function failureText(r: CommandResult, timeoutMs: number): string {
  if (r.timedOut) return `no answer within ${timeoutMs} ms`;
  if (r.error) return r.error.message;
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => l.trim() !== '');
  return lines.at(-1)?.trim() ?? `exit status ${r.code ?? r.signal}`;
}

/** A rootfs of symlinks and empty mount points, shared by every smoke test. */
function smokeRootfs(dir: string): { rootfs: string; mounts: Mount[] } {
  const rootfs = join(dir, 'rootfs');
  const mounts: Mount[] = [];
  mkdirSync(rootfs, { recursive: true });
  for (const hostDir of SMOKE_HOST_DIRS) {
    const st = lstatSync(hostDir, { throwIfNoEntry: false });
    if (!st) continue;
    const inRootfs = join(rootfs, hostDir);
    if (st.isSymbolicLink()) {
      // usr-merged hosts: /bin → usr/bin. Mirror the link instead of binding through it.
      if (!lstatSync(inRootfs, { throwIfNoEntry: false })) symlinkSync(readlinkSync(hostDir), inRootfs);
      continue;
    }
    mkdirSync(inRootfs, { recursive: true });
    mounts.push({ destination: hostDir, type: 'bind', source: hostDir, options: ['rbind', 'ro'] });
  }
  return { rootfs, mounts };
}

async function smokeTest(rt: RuncRuntime, dir: string, timeoutMs: number): Promise<SmokeResult> {
  const { rootfs, mounts } = smokeRootfs(dir);
  const id = `berth-probe-${randomBytes(6).toString('hex')}`;
  const bundle = join(dir, id);
  const root = join(bundle, 'state');
  const spec = containerSpec({
    rootfs,
    args: ['/bin/true'],
    readonlyRootfs: true,
    mounts,
    hostname: 'probe',
  });
  writeBundle(bundle, spec);
  mkdirSync(root, { recursive: true });
  // A private --root: a probe never shows up in (or collides with) the runtime's real state.
  const cli = { ...rt.cli, globalArgs: globalArgs({ root, systemdCgroup: rt.shimOptions.SystemdCgroup }) };
  const argv = withGlobals(cli, runArgs(id, { bundle, noPivot: cli.noPivot }));
  const r = await runCommand(cli.binary, argv, { timeoutMs, cwd: bundle, maxOutput: 64 * 1024 });
  if (r.code !== 0)
    await runCommand(cli.binary, withGlobals(cli, deleteArgs(id, { force: true })), { timeoutMs });
  removeBundle(bundle);
  const ms = Math.round(r.durationMs);
  return r.code === 0 ? { ok: true, ms } : { ok: false, ms, error: failureText(r, timeoutMs) };
}

/** The smoke bundle run through containerd with a shim runtime: `/bin/true` must exit 0 in time. */
async function shimSmokeTest(
  rt: ShimRuntime,
  run: NonNullable<ProbeOptions['shimSmoke']>,
  dir: string,
  timeoutMs: number,
): Promise<SmokeResult> {
  const { rootfs, mounts } = smokeRootfs(dir);
  const id = `berth-probe-${randomBytes(6).toString('hex')}`;
  const bundle = join(dir, id);
  writeBundle(
    bundle,
    containerSpec({ rootfs, args: ['/bin/true'], readonlyRootfs: true, mounts, hostname: 'probe' }),
  );
  const started = performance.now();
  try {
    const exit = await run(rt, bundle, id, timeoutMs);
    const ms = Math.round(performance.now() - started);
    if (exit.code === 0) return { ok: true, ms };
    return { ok: false, ms, error: exit.error ?? `/bin/true exited with code ${exit.code}` };
  } finally {
    removeBundle(bundle);
  }
}

function parseFeatures(r: CommandResult): { features: Record<string, unknown> | null; problem?: string } {
  if (r.code !== 0) {
    // No `features` verb (crun 1.8: "unknown command features", runsc: "Usage: …") is not a fault.
    return { features: null };
  }
  try {
    const parsed: unknown = JSON.parse(r.stdout);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return { features: parsed as Record<string, unknown> };
    }
    return { features: null, problem: 'features output is not a JSON object' };
  } catch {
    return { features: null, problem: 'features output is not valid JSON' };
  }
}

/** What the probes of one binary found: shared by every runtime that runs it. */
interface BinaryFacts {
  readonly version: CommandResult;
  readonly features: CommandResult;
  /** When they were measured (ISO time): a cached result keeps its original time. */
  readonly at: string;
}
type SmokeResult = NonNullable<RuntimeProbe['smokeTest']>;

/** A binary's identity: a replaced or upgraded binary gets probed again. */
function identity(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${path}@${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : `${path}@missing`;
}

/** At most `limit` tasks at once: a reload of many runtimes must not start hundreds of containers at once. */
class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/**
 * Probe results kept across reloads. Keyed by what decides the outcome: the binary's identity for
 * `--version`/`features`, plus the content-addressed wrapper and flags for the smoke test. Only successes are
 * kept: a runtime that failed is probed again on the next reload, since the user may have fixed it.
 */
export class ProbeCache {
  readonly #facts = new Map<string, Promise<BinaryFacts>>();
  readonly #smoke = new Map<string, Promise<SmokeResult>>();
  readonly #limiter: Limiter;

  constructor(smokeConcurrency = Math.max(2, availableParallelism())) {
    this.#limiter = new Limiter(smokeConcurrency);
  }

  facts(binary: string, timeoutMs: number): Promise<BinaryFacts> {
    const key = identity(binary);
    let entry = this.#facts.get(key);
    if (!entry) {
      const at = new Date().toISOString();
      entry = Promise.all([
        runCommand(binary, ['--version'], { timeoutMs, maxOutput: 16 * 1024 }),
        runCommand(binary, ['features'], { timeoutMs, maxOutput: 1 << 20 }),
      ]).then(([version, features]) => ({ version, features, at }));
      this.#remember(this.#facts, key, entry, (f) => f.version.code === 0 && !f.features.timedOut);
    }
    return entry;
  }

  smoke(rt: RuncRuntime, binary: string, dir: string, timeoutMs: number): Promise<SmokeResult> {
    const key = this.#smokeKey(rt, binary);
    let entry = this.#smoke.get(key);
    if (!entry) {
      entry = this.#limiter.run(() => smokeTest(rt, dir, timeoutMs));
      this.#remember(this.#smoke, key, entry, (r) => r.ok);
    }
    return entry;
  }

  /** Drops what is known about a runtime, so its next probe runs everything. */
  forget(rt: RuncRuntime, binary: string): void {
    this.#facts.delete(identity(binary));
    this.#smoke.delete(this.#smokeKey(rt, binary));
  }

  #smokeKey(rt: RuncRuntime, binary: string): string {
    return JSON.stringify([rt.cli.binary, identity(binary), rt.shimOptions.SystemdCgroup, rt.cli.noPivot]);
  }

  #remember<T>(
    map: Map<string, Promise<T>>,
    key: string,
    entry: Promise<T>,
    keep: (value: T) => boolean,
  ): void {
    map.set(key, entry);
    void entry.then((value) => {
      if (!keep(value) && map.get(key) === entry) map.delete(key);
    });
  }
}

/**
 * Probes one runtime. Never throws. With a shared {@link ProbeCache}, runtimes on the same binary share one
 * `--version`/`features` run and unchanged runtimes reuse their last successful smoke test.
 */
export async function probeRuntime(
  rt: ResolvedRuntime,
  o: ProbeOptions,
  cache = new ProbeCache(),
): Promise<RuntimeProbe> {
  const started = performance.now();
  const probedAt = new Date().toISOString();
  const done = (p: Omit<RuntimeProbe, 'probedAt' | 'durationMs'> & { probedAt?: string }): RuntimeProbe => ({
    probedAt,
    ...p,
    durationMs: Math.round(performance.now() - started),
  });
  const lookup = rt.kind === 'runc' ? findExecutable(rt.lookup.found ? rt.lookup.path : rt.path) : rt.lookup;
  if (!lookup.found) return done({ health: 'unavailable', reason: lookup.reason });
  if (rt.kind === 'shim') {
    if (!o.shimSmoke) {
      return done({
        health: 'unavailable',
        reason: `${rt.runtimeType} is a containerd shim (${lookup.path}); berth runs shims only with the containerd executor, which is not enabled`,
        binary: lookup.path,
      });
    }
    const smoke = o.smokeTest
      ? await shimSmokeTest(rt, o.shimSmoke, o.smokeTest.dir, o.smokeTest.timeoutMs)
      : undefined;
    const base = { binary: lookup.path, ...(smoke ? { smokeTest: smoke } : {}) };
    if (smoke && !smoke.ok)
      return done({
        ...base,
        health: 'unavailable',
        reason: `smoke test through containerd failed: ${smoke.error}`,
      });
    return done({ ...base, health: 'ok' });
  }
  const t = o.commandTimeoutMs;
  const [{ version, features, at }, smoke] = await Promise.all([
    cache.facts(lookup.path, t),
    o.smokeTest && existsSync(rt.cli.binary)
      ? cache.smoke(rt, lookup.path, o.smokeTest.dir, o.smokeTest.timeoutMs)
      : undefined,
  ]);
  const f = features.timedOut
    ? { features: null, problem: `features: ${failureText(features, t)}` }
    : parseFeatures(features);
  const base = {
    probedAt: at,
    binary: lookup.path,
    ...(version.code === 0 ? { version: firstLine(version.stdout) } : {}),
    features: f.features,
    ...(smoke ? { smokeTest: smoke } : {}),
  };
  if (smoke && !smoke.ok)
    return done({ ...base, health: 'unavailable', reason: `smoke test failed: ${smoke.error}` });
  const problems = [
    ...(version.code === 0 ? [] : [`--version: ${failureText(version, t)}`]),
    ...(f.problem ? [f.problem] : []),
  ];
  return done(
    problems.length
      ? { ...base, health: 'degraded', reason: problems.join('; ') }
      : { ...base, health: 'ok' },
  );
}
