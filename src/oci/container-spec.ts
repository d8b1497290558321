import { defaultSpec } from './default-spec.ts';
import type { Mount, Spec } from './types.ts';

/** Docker's PATH for a container whose image sets none, and for every plugin (Go's `system.DefaultPathEnv`). */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What a one-off container (`berth run`, a runtime smoke test) needs beyond Docker's default spec. */
export interface ContainerSpecInput {
  /** Absolute path of the root filesystem. */
  readonly rootfs: string;
  readonly args: readonly string[];
  /** `NAME=value` entries, added after PATH (an entry for PATH replaces the default). */
  readonly env?: readonly string[];
  /** Working directory; `/` when absent. */
  readonly cwd?: string;
  readonly readonlyRootfs?: boolean;
  readonly hostname?: string;
  /** Extra mounts, appended after the defaults. */
  readonly mounts?: readonly Mount[];
}

/** Docker's default Linux spec filled in for a plain command, as `docker run` would without an image config. */
export function containerSpec(input: ContainerSpecInput): Spec {
  const spec = defaultSpec();
  const env = input.env ?? [];
  spec.root = { path: input.rootfs, ...(input.readonlyRootfs ? { readonly: true } : {}) };
  spec.process = {
    ...spec.process,
    user: { uid: 0, gid: 0 },
    args: [...input.args],
    env: [...(env.some((e) => e.startsWith('PATH=')) ? [] : [DEFAULT_PATH_ENV]), ...env],
    cwd: input.cwd ?? '/',
  };
  if (input.hostname) spec.hostname = input.hostname;
  spec.mounts = [...(spec.mounts ?? []), ...(input.mounts ?? [])];
  return spec;
}
