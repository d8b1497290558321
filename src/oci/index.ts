export { capabilitiesFromMask, LINUX_CAPABILITIES } from './capabilities.ts';
export { type ContainerSpecInput, containerSpec, DEFAULT_PATH_ENV } from './container-spec.ts';
export { DEFAULT_CAPABILITIES, defaultSpec, OCI_VERSION } from './default-spec.ts';
export { addDevices, deviceCgroupRule } from './devices.ts';
export { hasNamespace, removeNamespace } from './namespaces.ts';
export type {
  Capabilities,
  LinuxDevice,
  LinuxDeviceCgroup,
  LinuxNamespace,
  LinuxSpec,
  Mount,
  NamespaceType,
  Process,
  RootfsPropagation,
  Spec,
} from './types.ts';
export { type SpecIssue, type SpecSchemaFlavor, validateSpec } from './validate.ts';
