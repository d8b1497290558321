/**
 * Curated names for the OCI runtime-spec types generated from the official schema.
 *
 * One deliberate widening: `linux.rootfsPropagation` also takes runc's recursive variants (`rshared`,
 * `rslave`, `rprivate`). The v1.3.0 schema lists only `private|shared|slave|unbindable`, but runc maps the
 * value straight onto mount(2) flags and the recursive form is what a propagated mount needs (moby emits
 * `rshared`). See docs/ARCHITECTURE.md, "Spec validation".
 *
 * @module
 */
import type {
  ConfigSchema,
  Device,
  DeviceCgroup,
  Linux,
  NamespaceReference,
  Mount as SchemaMount,
} from './spec-schema.generated.ts';

/** Mount propagation values runc accepts for `linux.rootfsPropagation`. */
export type RootfsPropagation =
  | 'private'
  | 'shared'
  | 'slave'
  | 'unbindable'
  | 'rprivate'
  | 'rshared'
  | 'rslave'
  | 'runbindable';

/** `linux` section of a spec, with {@link RootfsPropagation} widened. */
export type LinuxSpec = Omit<Linux, 'rootfsPropagation'> & { rootfsPropagation?: RootfsPropagation };

/** An OCI runtime spec (`config.json` of a bundle). */
export type Spec = Omit<ConfigSchema, 'linux'> & { linux?: LinuxSpec };

/** `process` section of a spec. */
export type Process = NonNullable<Spec['process']>;

/** `process.capabilities`: the five capability sets. */
export type Capabilities = NonNullable<Process['capabilities']>;

/** One entry of `mounts`. */
export type Mount = SchemaMount;

/** One entry of `linux.devices`: a device node the runtime creates in the container. */
export type LinuxDevice = Device;

/** One entry of `linux.resources.devices`: a device cgroup allow/deny rule. */
export type LinuxDeviceCgroup = DeviceCgroup;

/** One entry of `linux.namespaces`. */
export type LinuxNamespace = NamespaceReference;

/** Namespace types a Linux spec can name. */
export type NamespaceType = LinuxNamespace['type'];
