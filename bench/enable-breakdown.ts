/**
 * Where the time of enable, disable and restore goes, for bench/plugin-lifecycle.ts:
 *   - berthd's own phases, from the trace it writes with BERTHD_TRACE_PHASES (src/host/phase-trace.ts)
 *   - bare runc split the same way: `runc create`, `runc start`, then until the socket accepts; and a bare disable
 *     (`runc kill` + wait for the init to go + `runc delete`), the floor berth's disable is compared with
 *   - the cost of one fork + exec from a Node process, against its RSS
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PhaseRecord } from '../src/host/index.ts';
import { socketAddress } from '../src/host/index.ts';
import { canConnect } from '../src/plugins/index.ts';

export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per operation: the median time spent in each phase (from the previous mark to this one), in mark order. */
export function phaseMedians(traceFile: string): Map<string, { phases: [string, number][]; n: number }> {
  const records = existsSync(traceFile)
    ? readFileSync(traceFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as PhaseRecord)
    : [];
  const out = new Map<string, { phases: [string, number][]; n: number }>();
  for (const op of new Set(records.map((r) => r.op))) {
    const of = records.filter((r) => r.op === op);
    const names = [...new Set(of.flatMap((r) => r.phases.map(([p]) => p))), 'end'];
    const steps = (r: PhaseRecord) => {
      const marks = new Map([...r.phases, ['end', r.total] as [string, number]]);
      let last = 0;
      return names.map((n) => {
        const at = marks.get(n) ?? last;
        const d = at - last;
        last = at;
        return d;
      });
    };
    const all = of.map(steps);
    const phases = names.map((n, i) => [n, median(all.map((s) => s[i] ?? 0))] as [string, number]);
    out.set(op, { phases: [...phases, ['total', median(of.map((r) => r.total))]], n: of.length });
  }
  return out;
}

function runc(root: string, args: string[]): void {
  const r = spawnSync('runc', ['--root', root, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`runc ${args[0]}: ${r.stderr}`);
}

async function untilAccepts(path: string, t: number): Promise<void> {
  while (!(await canConnect(path))) {
    if (performance.now() - t > 10_000) throw new Error('bare runc: the plugin never listened');
    await sleep(0.5);
  }
}

/** Whether the process is gone (or a zombie nobody reaped yet: it has exited). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Bare runc split into its steps, then a bare disable of that container: `runc kill` (SIGTERM), polling every
 * 0.5 ms until the init is gone, `runc delete`. Milliseconds of each step.
 */
export async function bareRuncSteps(bundle: string, socketDir: string, root: string) {
  const id = 'bare-steps';
  rmSync(join(socketDir, 'mini.sock'), { force: true });
  const address = socketAddress(socketDir, 'mini.sock');
  try {
    const t0 = performance.now();
    const child = spawn('runc', ['--root', root, 'create', '--bundle', bundle, id], { stdio: 'ignore' });
    const spawnCall = performance.now() - t0;
    const code = await new Promise((r) => child.once('close', r));
    if (code !== 0) throw new Error(`runc create exited ${code}`);
    const t1 = performance.now();
    runc(root, ['start', id]);
    const t2 = performance.now();
    await untilAccepts(address.path, t2);
    const t3 = performance.now();
    const state = JSON.parse(
      spawnSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' }).stdout,
    ) as { pid: number };
    const d0 = performance.now();
    runc(root, ['kill', id, 'SIGTERM']);
    const d1 = performance.now();
    while (!gone(state.pid)) await sleep(0.5);
    const d2 = performance.now();
    runc(root, ['delete', id]);
    const d3 = performance.now();
    return {
      spawnCall,
      create: t1 - t0,
      start: t2 - t1,
      untilSocket: t3 - t2,
      enable: t3 - t0,
      kill: d1 - d0,
      wait: d2 - d1,
      delete: d3 - d2,
      disable: d3 - d0,
    };
  } finally {
    address.close();
    spawnSync('runc', ['--root', root, 'delete', '--force', id]);
  }
}

/** Medians of each field over `runs`. */
export function medians<T extends Record<string, number>>(runs: T[]): T {
  const keys = Object.keys(runs[0] ?? {}) as (keyof T)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k] as number))])) as T;
}
