/**
 * `berth runtime export` / `GET /runtimes/export`: one entry point from a runtime set and a format name to the
 * rendered text plus a report of what was written and what was left out.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';
import type { RuntimeSet } from '../runtimes/index.ts';
import { renderContainerd } from './containerd.ts';
import { renderCrio } from './crio.ts';
import { nodeLabels, renderNodeLabels, renderRuntimeClasses } from './kubernetes.ts';
import { type LeftOut, planExport } from './model.ts';

export const EXPORT_FORMATS = ['containerd', 'containerd-v3', 'crio', 'runtimeclass', 'node-labels'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const isExportFormat = (f: string): f is ExportFormat =>
  (EXPORT_FORMATS as readonly string[]).includes(f);

export interface ExportRequest {
  readonly format: ExportFormat;
  readonly includeUnavailable?: boolean;
  /** conmon's path for CRI-O's `monitor_path`, when known. */
  readonly monitorPath?: string;
}

export interface ExportResult {
  readonly format: ExportFormat;
  readonly content: string;
  /** Exported handlers: berth name → handler. */
  readonly handlers: readonly { readonly name: string; readonly handler: string }[];
  readonly leftOut: readonly LeftOut[];
  readonly defaultHandler?: string;
}

/** @throws {InvalidParameterError} an unknown format */
export function parseExportFormat(raw: unknown): ExportFormat {
  if (typeof raw === 'string' && isExportFormat(raw)) return raw;
  throw new InvalidParameterError(
    `invalid export format ${JSON.stringify(raw ?? '')}: use one of ${EXPORT_FORMATS.join(', ')}`,
  );
}

/** Renders `set` in `format`. Pure. */
export function exportRuntimes(set: RuntimeSet, request: ExportRequest): ExportResult {
  const plan = planExport(set, {
    includeUnavailable: request.includeUnavailable ?? false,
    cri: request.format === 'crio' ? 'crio' : 'containerd',
  });
  let content: string;
  let leftOut = plan.leftOut;
  switch (request.format) {
    case 'containerd':
      content = renderContainerd(plan, 2);
      break;
    case 'containerd-v3':
      content = renderContainerd(plan, 3);
      break;
    case 'crio':
      content = renderCrio(plan, request.monitorPath ? { monitorPath: request.monitorPath } : {});
      break;
    case 'runtimeclass':
      content = renderRuntimeClasses(plan);
      break;
    case 'node-labels': {
      content = renderNodeLabels(plan);
      // Labels list unavailable runtimes too (as false): only impossible names are left out.
      const names = new Set(plan.all.map((h) => h.name));
      leftOut = [
        ...plan.leftOut.filter((l) => !names.has(l.name)),
        ...nodeLabels(plan).problems.map((p) => ({ name: p.split(':')[0] ?? '', reason: p })),
      ];
      break;
    }
  }
  const exported = request.format === 'node-labels' ? plan.all : plan.handlers;
  return {
    format: request.format,
    content,
    handlers: exported.map((h) => ({ name: h.name, handler: h.handler })),
    leftOut,
    ...(plan.defaultHandler ? { defaultHandler: plan.defaultHandler } : {}),
  };
}
