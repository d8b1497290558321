/**
 * Checks made before a plugin's container is started, for problems runc reports only cryptically (plugins.md
 * §7.4): pure functions of the spec and host facts gathered beforehand.
 *
 * @module
 */
import type { Spec } from '../../oci/index.ts';

export interface PreflightFacts {
  /** Capability bounding set of the daemon (what a container can get at most). */
  readonly boundingCapabilities: readonly string[];
  /** Whether a host path exists. */
  readonly exists: (path: string) => boolean;
}

/** Every problem found, as sentences that name the plugin's setting and the fix. */
export function preflightProblems(spec: Spec, facts: PreflightFacts, name: string): string[] {
  const out: string[] = [];
  for (const m of spec.mounts ?? []) {
    if (m.type !== 'bind') continue;
    const opts = m.options ?? [];
    if (!opts.includes('bind') && !opts.includes('rbind')) {
      out.push(
        `mount ${m.destination}: type "bind" needs "bind" or "rbind" in its options (runc would fail with "no such device")`,
      );
    }
    if (m.source && !facts.exists(m.source)) {
      out.push(
        `mount ${m.destination}: source ${m.source} does not exist on the host; create it or run "berth plugin set ${name} <mount>.source=/host/path"`,
      );
    }
  }
  if (!spec.process?.args?.length) out.push('the plugin has no Entrypoint: nothing to run');
  const swapProblem = swapAccountingProblem(spec, facts, name);
  if (swapProblem) out.push(swapProblem);
  const bounding = new Set(facts.boundingCapabilities);
  const missing = (spec.process?.capabilities?.bounding ?? []).filter((c) => !bounding.has(c));
  if (missing.length) {
    out.push(
      `capabilities ${[...new Set(missing)].join(', ')} are outside this host's bounding set (runc would fail with "unable to apply caps: operation not permitted")`,
    );
  }
  return out;
}

const V1_MEMORY = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
const V1_SWAP = '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes';

/**
 * A swap limit on a cgroup v1 host without swap accounting makes runc fail on a missing `memory.memsw.*` file;
 * say so before (dockerd silently drops the swap limit for containers, which would hide the user's intent).
 */
function swapAccountingProblem(spec: Spec, facts: PreflightFacts, name: string): string | undefined {
  const swap = spec.linux?.resources?.memory?.swap;
  if (swap === undefined || swap === -1) return undefined;
  if (!facts.exists(V1_MEMORY) || facts.exists(V1_SWAP)) return undefined;
  return `memory-swap: this host's cgroup v1 has no swap accounting (${V1_SWAP} is missing; boot with swapaccount=1), so a swap limit cannot be applied; run "berth plugin update --memory-swap -1 ${name}" for unlimited swap`;
}
