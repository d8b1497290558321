/**
 * How a registry runtime runs under containerd, as moby 24+ maps daemon.json runtimes (containerd.md §4): a
 * `{path, runtimeArgs}` runtime runs under the runc v2 shim with `Options{BinaryName: path or its wrapper script,
 * Root: <exec-root>/runtime-<name>, SystemdCgroup, NoPivotRoot}`; a `{runtimeType, options}` runtime passes its
 * type verbatim, with runc `Options` for the runc shims and `runtimeoptions` (`TypeUrl`, `ConfigPath`) for any
 * other. Pure: the containerd executor packs the fields into the `Any` containerd takes.
 *
 * @module
 */
import type { ResolvedRuntime } from './resolve.ts';

/** The runc shims, which take `containerd.runc.v1.Options`. */
const RUNC_SHIMS = new Set(['io.containerd.runc.v1', 'io.containerd.runc.v2']);

/** runc shim option names (daemon.json, Go's field names) → the proto's field names. */
const RUNC_FIELDS: Readonly<Record<string, string>> = {
  BinaryName: 'binary_name',
  Root: 'root',
  SystemdCgroup: 'systemd_cgroup',
  NoPivotRoot: 'no_pivot_root',
  NoNewKeyring: 'no_new_keyring',
  ShimCgroup: 'shim_cgroup',
  IoUid: 'io_uid',
  IoGid: 'io_gid',
  CriuImagePath: 'criu_image_path',
  CriuWorkPath: 'criu_work_path',
};
const RUNTIME_FIELDS: Readonly<Record<string, string>> = { TypeUrl: 'type_url', ConfigPath: 'config_path' };

/** A runtime as containerd takes it: its name, the shim binary, and the options message's fields. */
export interface ContainerdRuntime {
  /** The shim binary containerd will look for (`containerd-shim-runc-v2`), for views and errors. */
  readonly binary: string;
  /** containerd's runtime name, verbatim. */
  readonly name: string;
  readonly options?: {
    readonly type: 'runc' | 'runtimeoptions';
    /** Keyed by the proto's field names (`binary_name`), never Go's: a misspelt key would be dropped. */
    readonly fields: Readonly<Record<string, unknown>>;
  };
}

function fieldsOf(options: Readonly<Record<string, unknown>>, names: Readonly<Record<string, string>>) {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    const field = names[key];
    if (field) fields[field] = value;
  }
  return fields;
}

/** The containerd form of a resolved registry runtime. */
export function containerdRuntimeOf(rt: ResolvedRuntime): ContainerdRuntime {
  if (rt.kind === 'runc') {
    const o = rt.shimOptions;
    return {
      binary: 'containerd-shim-runc-v2',
      name: 'io.containerd.runc.v2',
      options: {
        type: 'runc',
        fields: {
          binary_name: o.BinaryName,
          root: o.Root,
          systemd_cgroup: o.SystemdCgroup,
          no_pivot_root: o.NoPivotRoot,
        },
      },
    };
  }
  const runc = RUNC_SHIMS.has(rt.runtimeType);
  const fields = fieldsOf(rt.options, runc ? RUNC_FIELDS : RUNTIME_FIELDS);
  return {
    binary: rt.shimBinary,
    name: rt.runtimeType,
    ...(Object.keys(fields).length ? { options: { type: runc ? 'runc' : 'runtimeoptions', fields } } : {}),
  };
}
