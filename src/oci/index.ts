export { capabilitiesFromMask, LINUX_CAPABILITIES } from './capabilities.ts';
export { type ContainerSpecInput, containerSpec, DEFAULT_PATH_ENV } from './container-spec.ts';
export { DEFAULT_CAPABILITIES, defaultSpec, OCI_VERSION } from './default-spec.ts';
export {
  DEFAULT_CAPABILITIES_JSON,
  DEFAULT_DEVICE_RULES_JSON,
  DEFAULT_MOUNTS_JSON,
  DEFAULT_NAMESPACES_JSON,
  type JsonPiece,
  jsonItems,
  MASKED_AND_READONLY_PATHS_JSON,
  OCI_VERSION_JSON,
} from './default-spec-json.ts';
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
