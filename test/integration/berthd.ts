/**
 * Test support: a real berthd process on private directories (with spaces in their paths, to prove argv and
 * wrapper quoting), and the real berth CLI against it. Root only.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { killRuncOrphans, type RuncInit, readProcEntries, runcInits } from '../../src/executor/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
// The shipped executables (scripts/test.sh builds dist/ first): what users run, and 2x faster to start than tsx.
const BERTHD = join(ROOT, 'bin/berthd.js');
const BERTH = join(ROOT, 'bin/berth.js');

export interface TestDaemon {
  readonly dir: string;
  readonly host: string;
  readonly socket: string;
  readonly configFile: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfile: string;
  process: ChildProcess;
  /** Everything berthd wrote to stderr so far. */
  log(): string;
  writeConfig(config: unknown): void;
  /**
   * Starts (again) and waits until every plugin is restored ("berthd ready"), or with `until: 'listening'` only
   * until the socket answers (berthd listens before it restores its plugins).
   */
  start(extraArgs?: readonly string[], o?: { until?: 'listening' | 'ready' }): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  cleanup(): Promise<void>;
}

/** `runc delete --force` of every container under `<execRoot>/runtime-*`. */
export function reapContainers(execRoot: string): void {
  let roots: string[];
  try {
    roots = readdirSync(execRoot).filter((e) => e.startsWith('runtime-'));
  } catch {
    return;
  }
  for (const root of roots) {
    const list = spawnSync('runc', ['--root', join(execRoot, root), 'list', '-q'], { encoding: 'utf8' });
    for (const id of list.stdout.split('\n').filter(Boolean)) {
      spawnSync('runc', ['--root', join(execRoot, root), 'delete', '--force', id]);
    }
  }
}

/**
 * The `runc init` processes whose state dir is under `dir` (with `unsupervised`, only those under no shim) that are
 * still there after up to `graceMs`: one killed a moment ago (by berthd's sweep, by killShimsOf) is listed in /proc
 * until it has run to its exit, which on a loaded machine takes a while.
 */
export async function runcInitsUnder(
  dir: string,
  o: { unsupervised?: boolean; graceMs?: number } = {},
): Promise<RuncInit[]> {
  const now = () =>
    runcInits(readProcEntries()).filter(
      (i) => i.stateDir.startsWith(`${dir}/`) && !(o.unsupervised && i.supervised),
    );
  const deadline = Date.now() + (o.graceMs ?? 2000);
  let inits = now();
  while (inits.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    inits = now();
  }
  return inits;
}

/**
 * SIGKILLs every `runc init` whose state dir is under `dir` (that has not gone by itself within 2 s), and returns
 * them. One a shim left blocked on its exec FIFO when it died mid `runc create` is under no shim: nothing else
 * finds it, and it outlives the test.
 */
export async function killRuncInitsUnder(dir: string): Promise<RuncInit[]> {
  const inits = await runcInitsUnder(dir);
  killRuncOrphans(inits.map((i) => ({ ...i, id: basename(i.stateDir) })));
  return inits;
}

export function busyboxRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const tool of ['sh', 'echo', 'printf', 'sleep', 'cat', 'dmesg', 'id', 'true', 'false']) {
    symlinkSync('busybox', join(rootfs, 'bin', tool));
  }
  return rootfs;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function testDaemon(prefix: string): TestDaemon {
  const dir = mkdtempSync(join(tmpdir(), `${prefix} `));
  const socket = join(dir, 'berth.sock');
  let stderr = '';
  const d: TestDaemon = {
    dir,
    host: `unix://${socket}`,
    socket,
    configFile: join(dir, 'daemon.json'),
    dataRoot: join(dir, 'data root'),
    execRoot: join(dir, 'exec root'),
    pidfile: join(dir, 'berthd.pid'),
    process: undefined as unknown as ChildProcess,
    log: () => stderr,
    writeConfig: (config) => writeFileSync(d.configFile, JSON.stringify(config)),
    async start(extraArgs = [], o = {}) {
      if (!existsSync(d.configFile)) d.writeConfig({});
      rmSync(socket, { force: true });
      const from = stderr.length; // the log spans restarts: only this start's lines count
      const args = [
        BERTHD,
        '-H',
        d.host,
        '--data-root',
        d.dataRoot,
        '--exec-root',
        d.execRoot,
        '--pidfile',
        d.pidfile,
        '--config-file',
        d.configFile,
        ...extraArgs,
      ];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      d.process = child;
      child.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      let exited = false;
      child.on('exit', () => {
        exited = true;
      });
      const line = o.until === 'listening' ? 'berthd listening' : 'berthd ready';
      await waitFor(() => exited || stderr.includes(line, from), 30_000, `"${line}" from berthd`);
      if (exited) throw new Error(`berthd exited at start:\n${stderr}`);
    },
    async stop(signal = 'SIGTERM') {
      const child = d.process;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill(signal);
      return done;
    },
    /**
     * Stops berthd gracefully (it stops its plugins), then deletes whatever is still registered under its
     * runtime roots (after a test that killed it), and only then removes the directory: removing runc's state
     * first would leave containers no runc can reach. A `runc init` still naming a state dir under it is killed.
     */
    async cleanup() {
      const killer = setTimeout(() => d.process.kill('SIGKILL'), 20_000);
      await d.stop('SIGTERM');
      clearTimeout(killer);
      reapContainers(d.execRoot);
      await killRuncInitsUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return d;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the berth CLI against `host`; the child is returned so a test can signal it. */
export function berth(
  host: string,
  args: readonly string[],
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BERTH, '-H', host, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

export const runBerth = (host: string, args: readonly string[]) => berth(host, args).done;

export { readFileSync, waitFor };
