/**
 * Whether the kernel's OOM killer struck in a container's cgroup, read from the cgroup itself (never guessed from
 * exit code 137, which any SIGKILL gives): cgroup v1 counts kills in `memory.oom_control` (`oom_kill N`), v2 in
 * `memory.events` (`oom_kill N`). runc removes the cgroup when the container is deleted, so this is read after
 * the exit and before the delete; where the cgroup is comes from runc's state (`cgroup_paths`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `oom_kill N` of a v1 `memory.oom_control` or a v2 `memory.events`; undefined when the file has no such line. */
export function parseOomKills(text: string): number | undefined {
  const m = /^oom_kill\s+(\d+)\s*$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The file that counts OOM kills for a container, from runc's `state.json`: the v1 memory hierarchy when there is
 * one (hybrid hosts have both, and only v1 has the memory controller), else the unified (v2) cgroup.
 */
export function oomCounterFile(runcState: unknown): string | undefined {
  const paths = (runcState as { cgroup_paths?: Record<string, unknown> } | null)?.cgroup_paths;
  if (typeof paths !== 'object' || paths === null) return undefined;
  if (typeof paths.memory === 'string') return join(paths.memory, 'memory.oom_control');
  if (typeof paths[''] === 'string') return join(paths[''], 'memory.events');
  return undefined;
}

/** `--root DIR` of a runtime's global flags. */
export function stateRoot(globalArgs: readonly string[]): string | undefined {
  const at = globalArgs.indexOf('--root');
  return at >= 0 ? globalArgs[at + 1] : undefined;
}

/** How many processes the OOM killer killed in the container's cgroup; undefined when that cannot be read. */
export function readOomKills(root: string, id: string): number | undefined {
  try {
    const file = oomCounterFile(JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')));
    return file === undefined ? undefined : parseOomKills(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // not runc's layout, or the cgroup is already gone: no verdict rather than a guess
  }
}
