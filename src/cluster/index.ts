export {
  BACKUP_SUFFIX,
  type ConfigureReport,
  type ContainerdLayout,
  CRIO_DROPIN_NAME,
  configureContainerd,
  configureCrio,
  containerdDropin,
  containerdLayout,
  defaultContainerdDropin,
  writeIfChanged,
} from './configure.ts';
export {
  CONTAINERD_STATE_ROOT,
  type ContainerdVersion,
  CRI_PLUGIN,
  containerdRuntime,
  containerdSection,
  renderContainerd,
} from './containerd.ts';
export {
  addImport,
  containerdConfigVersion,
  effectiveCriSection,
  mergeBaseCriSection,
} from './containerd-config.ts';
export { CRIO_RUNTIME_KEYS, CRIO_STATE_ROOT, crioRuntime, renderCrio } from './crio.ts';
export {
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportRequest,
  type ExportResult,
  exportRuntimes,
  isExportFormat,
  parseExportFormat,
} from './export.ts';
export {
  NODE_LABEL_PREFIX,
  nodeLabels,
  renderNodeLabels,
  renderRuntimeClasses,
  runtimeClass,
} from './kubernetes.ts';
export {
  type ExportPlan,
  GVISOR_RUNC_SHIM_PROBLEM,
  type HandlerRuntime,
  type LeftOut,
  planExport,
} from './model.ts';
export {
  type CriSyncOptions,
  criSyncPlan,
  SYNC_FORMATS,
  type SyncFormat,
  type SyncResult,
  syncCri,
} from './sync.ts';
