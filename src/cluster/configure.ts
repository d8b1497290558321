/**
 * Writing exported runtimes into a node's CRI configuration: `berth runtime configure` and berthd
 * `--sync-cri`. Every write is atomic (temp + fsync + rename) and happens only when the content changes; the
 * drop-in is written before the main config imports it, so containerd never sees a dangling import.
 *
 * @module
 */
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidParameterError } from '../errdefs/index.ts';
import { writeFileAtomicSync } from '../host/index.ts';
import {
  addImport,
  containerdConfigVersion,
  effectiveCriSection,
  mergeBaseCriSection,
  otherImports,
  parseToml,
} from './containerd-config.ts';

/** Where `configure --containerd-config FILE` puts the drop-in unless told: `<dir of FILE>/conf.d/berth.toml`. */
export const defaultContainerdDropin = (main: string): string =>
  join(dirname(resolve(main)), 'conf.d', 'berth.toml');
/** The CRI-O drop-in file name: late in lexical order, so berth's tables win over the defaults. */
export const CRIO_DROPIN_NAME = '90-berth.conf';
/** Kept beside the main config, holding it as it was before berth's last edit. */
export const BACKUP_SUFFIX = '.berth-backup';

export const RESTART_CONTAINERD = 'systemctl restart containerd';
export const RESTART_CRIO = 'systemctl restart crio';

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? `; create it first, e.g. "containerd config default > ${file}"` : '';
    throw new InvalidParameterError(`cannot read ${what} ${file}: ${(err as Error).message}${hint}`);
  }
}

/** Writes `content` to `file` atomically unless it already holds exactly that. Returns whether it wrote. */
export function writeIfChanged(file: string, content: string, mode = 0o644): boolean {
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return false;
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileAtomicSync(file, content, mode);
  return true;
}

export interface ContainerdTarget {
  /** The main config containerd is started with (`/etc/containerd/config.toml`). */
  readonly config: string;
  /** The drop-in berth owns; default {@link defaultContainerdDropin}. */
  readonly dropin?: string;
}

/** What the main config says about how to write the drop-in. */
export interface ContainerdLayout {
  readonly config: string;
  readonly dropin: string;
  readonly version: 2 | 3;
}

export function containerdLayout(target: ContainerdTarget): ContainerdLayout {
  const config = resolve(target.config);
  const parsed = parseToml(readText(config, 'containerd config'), config);
  return {
    config,
    dropin: resolve(target.dropin ?? defaultContainerdDropin(config)),
    version: containerdConfigVersion(parsed, config),
  };
}

/**
 * The drop-in text for a version-2 node: `exported` merged over the node's effective CRI section (main config,
 * then its other imports), read now. For version 3, `exported` as it is.
 */
export function containerdDropin(layout: ContainerdLayout, exported: string): string {
  if (layout.version === 3) return exported;
  const main = parseToml(readText(layout.config, 'containerd config'), layout.config);
  const others = otherImports(main, layout.config, layout.dropin).flatMap((file) => {
    if (/[*?[]/.test(file) || statSync(file, { throwIfNoEntry: false }) === undefined) return [];
    return [parseToml(readFileSync(file, 'utf8'), file)];
  });
  return mergeBaseCriSection(exported, effectiveCriSection([main, ...others]));
}

export interface ConfigureReport {
  readonly dropin: string;
  readonly dropinChanged: boolean;
  readonly config?: string;
  readonly configChanged?: boolean;
  readonly backup?: string;
  /** What makes the CRI pick the change up. */
  readonly restart: string;
}

/** Writes the drop-in, then adds it to the main config's imports (once; backup first). */
export function configureContainerd(layout: ContainerdLayout, exported: string): ConfigureReport {
  const dropinChanged = writeIfChanged(layout.dropin, containerdDropin(layout, exported));
  const text = readText(layout.config, 'containerd config');
  const edit = addImport(text, layout.dropin, layout.config);
  let backup: string | undefined;
  if (edit.changed) {
    const mode = statSync(layout.config).mode & 0o7777;
    backup = `${layout.config}${BACKUP_SUFFIX}`;
    copyFileSync(layout.config, backup);
    writeFileAtomicSync(layout.config, edit.text, mode);
  }
  return {
    dropin: layout.dropin,
    dropinChanged,
    config: layout.config,
    configChanged: edit.changed,
    ...(backup ? { backup } : {}),
    restart: RESTART_CONTAINERD,
  };
}

/** Writes `<dir>/90-berth.conf`. CRI-O reads every drop-in of its directory: no main file is edited. */
export function configureCrio(dir: string, exported: string): ConfigureReport {
  const dropin = join(resolve(dir), CRIO_DROPIN_NAME);
  return { dropin, dropinChanged: writeIfChanged(dropin, exported), restart: RESTART_CRIO };
}
