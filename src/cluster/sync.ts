/**
 * berthd `--sync-cri FILE`: after every successful load of the runtime registry, the CRI drop-in is rendered
 * again and rewritten only when its bytes change, so containerd/CRI-O config management sees a change exactly
 * when the runtimes changed.
 *
 * @module
 */
import { resolve } from 'node:path';
import { InvalidParameterError } from '../errdefs/index.ts';
import type { RuntimeSet } from '../runtimes/index.ts';
import {
  configureContainerd,
  containerdLayout,
  RESTART_CONTAINERD,
  RESTART_CRIO,
  writeIfChanged,
} from './configure.ts';
import { type ExportFormat, exportRuntimes } from './export.ts';
import type { LeftOut } from './model.ts';

export const SYNC_FORMATS = ['containerd', 'containerd-v3', 'crio'] as const;
export type SyncFormat = (typeof SYNC_FORMATS)[number];

export interface CriSyncOptions {
  /** The drop-in berthd owns. */
  readonly file: string;
  /** Default: from `containerdConfig`'s version when given, else `containerd`. */
  readonly format?: string;
  /** containerd's main config: the drop-in then carries its CRI section (1.x) and is added to its imports. */
  readonly containerdConfig?: string;
  readonly includeUnavailable?: boolean;
}

export interface SyncResult {
  readonly file: string;
  readonly format: SyncFormat;
  readonly changed: boolean;
  readonly handlers: readonly string[];
  readonly leftOut: readonly LeftOut[];
  readonly restart: string;
}

/** Checks the options once, at start. @throws {InvalidParameterError} */
export function criSyncPlan(
  o: CriSyncOptions,
): Required<Pick<CriSyncOptions, 'file'>> & CriSyncOptions & { format: SyncFormat } {
  const layout = o.containerdConfig
    ? containerdLayout({ config: o.containerdConfig, dropin: o.file })
    : undefined;
  const inferred = layout ? (layout.version === 3 ? 'containerd-v3' : 'containerd') : 'containerd';
  const format = o.format ?? inferred;
  if (!(SYNC_FORMATS as readonly string[]).includes(format))
    throw new InvalidParameterError(
      `invalid --sync-cri-format ${JSON.stringify(format)}: use one of ${SYNC_FORMATS.join(', ')}`,
    );
  if (layout && format !== inferred)
    throw new InvalidParameterError(
      `--sync-cri-format ${format} does not match ${layout.config} (config version ${layout.version} needs ${inferred})`,
    );
  return { ...o, file: resolve(o.file), format: format as SyncFormat };
}

/** Renders `set` and writes the drop-in (and the imports line) when they change. */
export function syncCri(o: ReturnType<typeof criSyncPlan>, set: RuntimeSet): SyncResult {
  const exported = exportRuntimes(set, {
    format: o.format as ExportFormat,
    includeUnavailable: o.includeUnavailable ?? false,
  });
  let changed: boolean;
  if (o.containerdConfig) {
    const report = configureContainerd(
      containerdLayout({ config: o.containerdConfig, dropin: o.file }),
      exported.content,
    );
    changed = report.dropinChanged || report.configChanged === true;
  } else {
    changed = writeIfChanged(o.file, exported.content);
  }
  return {
    file: o.file,
    format: o.format,
    changed,
    handlers: exported.handlers.map((h) => h.handler),
    leftOut: exported.leftOut,
    restart: o.format === 'crio' ? RESTART_CRIO : RESTART_CONTAINERD,
  };
}
