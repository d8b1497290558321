import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DaemonFacts } from '../api/index.ts';
import { writeFileAtomicSync } from '../host/index.ts';

function operatingSystem(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** The engine id, created once per data root (like dockerd's engine-id). */
function engineId(dataRoot: string): string {
  const file = join(dataRoot, 'engine-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (id) return id;
  } catch {
    // first start
  }
  const id = randomUUID();
  mkdirSync(dataRoot, { recursive: true, mode: 0o711 });
  writeFileAtomicSync(file, `${id}\n`);
  return id;
}

/** Host and daemon facts gathered once at start for `/version` and `/info`. */
export function gatherFacts(version: string, dataRoot: string, execRoot: string): DaemonFacts {
  return {
    version,
    id: engineId(dataRoot),
    name: hostname(),
    dataRoot,
    execRoot,
    kernelVersion: release(),
    operatingSystem: operatingSystem(),
    architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
    ncpu: cpus().length,
    memTotal: totalmem(),
    cgroupVersion: existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
  };
}
