/**
 * The on-disk plugin store: `<data-root>/plugins/<id>/` holding `state.json`, `rootfs/` and
 * `propagated-mount/`. Creates are staged under `tmp/` and published with one rename; removes rename to
 * `<id>-removing` first; state writes are temp + fsync + rename. After a crash at any point, `load()` finds
 * each plugin either complete or absent, cleans staging and half-removed leftovers, and reports (never fails
 * on) an unreadable entry.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATOMIC_TEMP_PREFIX,
  type PreparedWrite,
  prepareFileAtomic,
  writeFileAtomicSync,
} from '../../host/index.ts';
import type { HealthConfig, Plugin } from '../model/index.ts';
import { decodePlugin, decodeStoredHealth } from '../model/index.ts';

/** What berth persists per plugin. */
export interface PluginState {
  readonly plugin: Plugin;
  /** Runtime chosen for this plugin; the daemon default when absent. */
  readonly runtime?: string;
  /** What the manifest's decoding warned about (unknown keys), kept for inspect. */
  readonly warnings?: readonly string[];
  /** The health check's settings the user changed (absent: the defaults). */
  readonly health?: HealthConfig;
}

export const STATE_FILE = 'state.json';
/** An upgrade in progress: the new state, renamed over state.json once the new rootfs is in place. */
const NEXT_STATE_FILE = 'state.next.json';
const OLD_ROOTFS = 'rootfs-old';
const ID = /^[0-9a-f]{64}$/;

export interface LoadReport {
  readonly plugins: PluginState[];
  /** Entries skipped, with why. */
  readonly broken: { readonly id: string; readonly reason: string }[];
  /** Leftovers of interrupted creates and removes that were deleted. */
  readonly cleaned: string[];
}

export class PluginStore {
  readonly root: string;

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'plugins');
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  rootfs(id: string): string {
    return join(this.root, id, 'rootfs');
  }

  propagatedMount(id: string): string {
    return join(this.root, id, 'propagated-mount');
  }

  /** Reads every plugin; cleans staging and removal leftovers. */
  load(): LoadReport {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const plugins: PluginState[] = [];
    const broken: { id: string; reason: string }[] = [];
    const cleaned: string[] = [];
    for (const entry of readdirSync(this.root)) {
      const path = join(this.root, entry);
      if (entry === 'tmp' || entry.endsWith('-removing')) {
        rmSync(path, { recursive: true, force: true });
        cleaned.push(path);
        continue;
      }
      if (!ID.test(entry)) continue;
      try {
        this.#finishUpgrade(path);
        dropTempFiles(path);
        const raw = JSON.parse(readFileSync(join(path, STATE_FILE), 'utf8')) as {
          plugin?: unknown;
          runtime?: unknown;
          warnings?: unknown;
          health?: unknown;
        };
        const plugin = decodePlugin(raw.plugin, 'state.plugin');
        if (plugin.Id !== entry) throw new Error(`state names id ${plugin.Id}`);
        if (!statSync(join(path, 'rootfs'), { throwIfNoEntry: false })?.isDirectory())
          throw new Error('rootfs/ is missing');
        const warnings = Array.isArray(raw.warnings) ? raw.warnings.filter((w) => typeof w === 'string') : [];
        const health = decodeStoredHealth(raw.health, 'state.health');
        plugins.push({
          plugin,
          ...(typeof raw.runtime === 'string' ? { runtime: raw.runtime } : {}),
          ...(warnings.length ? { warnings } : {}),
          ...(health && Object.keys(health).length ? { health } : {}),
        });
      } catch (err) {
        broken.push({ id: entry, reason: `${(err as Error).message}; fix or delete ${path}` });
      }
    }
    return { plugins, broken, cleaned };
  }

  /** A fresh staging directory for a create. */
  stage(): string {
    const dir = join(this.root, 'tmp', randomBytes(8).toString('hex'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /**
   * Publishes a staged plugin: writes its state into the staging dir, then renames the dir to `<id>`.
   * Before the rename the plugin does not exist; after it, it is complete.
   */
  commit(staging: string, state: PluginState): void {
    writeFileAtomicSync(join(staging, STATE_FILE), stateJson(state), 0o600);
    if (state.plugin.Config.PropagatedMount) mkdirSync(join(staging, 'propagated-mount'), { mode: 0o755 });
    renameSync(staging, this.dir(state.plugin.Id));
  }

  /** Drops a staging directory (failed create). */
  discard(staging: string): void {
    rmSync(staging, { recursive: true, force: true });
  }

  save(state: PluginState): void {
    writeFileAtomicSync(join(this.dir(state.plugin.Id), STATE_FILE), stateJson(state), 0o600);
  }

  /** {@link save} in two halves: written and fsynced now, the state only once committed. */
  prepareSave(state: PluginState): PreparedWrite {
    return prepareFileAtomic(join(this.dir(state.plugin.Id), STATE_FILE), stateJson(state), 0o600);
  }

  /**
   * Replaces a plugin's rootfs and state (upgrade) so that a crash at any point leaves either the old version or
   * the new one: the new state is written aside, the rootfs directories are swapped, and renaming the new state
   * over state.json is the commit point; {@link load} rolls an uncommitted swap back.
   */
  replaceRootfs(newRootfs: string, state: PluginState): void {
    const dir = this.dir(state.plugin.Id);
    writeFileAtomicSync(join(dir, NEXT_STATE_FILE), stateJson(state), 0o600);
    renameSync(join(dir, 'rootfs'), join(dir, OLD_ROOTFS));
    renameSync(newRootfs, join(dir, 'rootfs'));
    renameSync(join(dir, NEXT_STATE_FILE), join(dir, STATE_FILE));
    rmSync(join(dir, OLD_ROOTFS), { recursive: true, force: true });
  }

  /** Rolls back an upgrade that did not reach its commit point, or finishes the cleanup of one that did. */
  #finishUpgrade(dir: string): void {
    const old = join(dir, OLD_ROOTFS);
    const next = join(dir, NEXT_STATE_FILE);
    if (statSync(next, { throwIfNoEntry: false }) && statSync(old, { throwIfNoEntry: false })) {
      rmSync(join(dir, 'rootfs'), { recursive: true, force: true });
      renameSync(old, join(dir, 'rootfs'));
    }
    rmSync(next, { force: true });
    rmSync(old, { recursive: true, force: true });
  }

  /** Removes a plugin: one rename makes it gone, then the files are deleted. */
  remove(id: string): void {
    const removing = `${this.dir(id)}-removing`;
    renameSync(this.dir(id), removing);
    rmSync(removing, { recursive: true, force: true });
  }
}

/** Temp files of state writes a crash interrupted (never committed: the state file holds what it had). */
function dropTempFiles(dir: string): void {
  for (const name of readdirSync(dir))
    if (name.startsWith(ATOMIC_TEMP_PREFIX)) rmSync(join(dir, name), { force: true });
}

function stateJson(state: PluginState): string {
  const { plugin, runtime, warnings, health } = state;
  const hasHealth = health && Object.keys(health).length;
  return `${JSON.stringify({ plugin, ...(runtime ? { runtime } : {}), ...(warnings?.length ? { warnings } : {}), ...(hasHealth ? { health } : {}) })}\n`;
}
