/** Plugins and registries: pull, push and upgrade (next to registry/, which speaks the distribution API). */
export {
  type DistributionOptions,
  PluginDistribution,
  type PushResult,
  type TransferOptions,
} from './distribution.ts';
export type { Progress, ProgressMessage } from './fetch.ts';
