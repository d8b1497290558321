import { readFileSync } from 'node:fs';
import { capabilitiesFromMask } from '../oci/index.ts';

/** The capability bounding set of this process: what any container it starts can have at most. */
export function boundingCapabilities(): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] ? capabilitiesFromMask(m[1]) : [];
}
