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
  const bounding = new Set(facts.boundingCapabilities);
  const missing = (spec.process?.capabilities?.bounding ?? []).filter((c) => !bounding.has(c));
  if (missing.length) {
    out.push(
      `capabilities ${[...new Set(missing)].join(', ')} are outside this host's bounding set (runc would fail with "unable to apply caps: operation not permitted")`,
    );
  }
  return out;
}
