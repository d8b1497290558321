/**
 * Test support: a busybox rootfs and a real `runc run` of a spec, for integration tests (root only).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Spec } from '../../src/index.ts';

/** Why integration tests cannot run here, or undefined when they can. In CI a reason is a failure. */
export function cannotRunContainers(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (spawnSync('runc', ['--version']).status !== 0) return 'needs runc (apt-get install runc)';
  if (spawnSync('/bin/busybox', ['true']).status !== 0) return 'needs busybox-static';
  return undefined;
}

/** `skip` option for node:test: a reason locally, never in CI (where a missing tool must fail the run). */
export function skipUnlessContainers(): string | false {
  const reason = cannotRunContainers();
  if (reason && process.env.CI === 'true') throw new Error(`integration tests cannot run in CI: ${reason}`);
  return reason ?? false;
}

/** A scratch directory with `rootfs/bin/busybox`, removed by `cleanup()`. */
export function makeBusyboxBundleDir(prefix: string): { dir: string; rootfs: string; cleanup: () => void } {
  const dir = mkdtempSync(`${tmpdir()}/${prefix}-`);
  const rootfs = `${dir}/rootfs`;
  mkdirSync(`${rootfs}/bin`, { recursive: true });
  copyFileSync('/bin/busybox', `${rootfs}/bin/busybox`);
  return { dir, rootfs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `key=value` lines of stdout. */
  facts: Map<string, string>;
}

/** Writes `spec` as `<bundle>/config.json` and runs it in the foreground with runc. */
export function runBundle(bundle: string, spec: Spec, id: string, timeoutMs = 30_000): RunResult {
  writeFileSync(`${bundle}/config.json`, JSON.stringify(spec));
  const r = spawnSync('runc', ['--root', `${bundle}/.runc`, 'run', '--bundle', bundle, id], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const facts = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) facts.set(line.slice(0, at), line.slice(at + 1));
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, facts };
}
