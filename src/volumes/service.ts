/**
 * Volumes served by managed volume-driver plugins (`docker volume create -d <plugin>`), with Docker's Volume
 * shape. The volume → driver mapping is persisted atomically in `<data-root>/volumes/volumes.json`; each volume
 * holds a reference on its plugin, so the plugin cannot be disabled or removed without force while it has
 * volumes. A driver that is down does not lose anything: its volumes are listed with the error in `Status`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BerthError,
  ConflictError,
  InvalidParameterError,
  NotFoundError,
  SystemError,
  UnavailableError,
} from '../errdefs/index.ts';
import { writeFileAtomicSync } from '../host/index.ts';
import type { PluginManager } from '../plugins/index.ts';
import { MountLedger } from './mounts.ts';

import { readVolumeFile, type VolumeRecord } from './volume-file.ts';

/** The Engine API Volume object. */
export interface Volume {
  readonly CreatedAt: string;
  readonly Driver: string;
  readonly Labels: Record<string, string>;
  readonly Mountpoint: string;
  readonly Name: string;
  readonly Options: Record<string, string>;
  readonly Scope: string;
  readonly Status?: Record<string, unknown>;
}

export interface CreateVolume {
  readonly Name?: string;
  readonly Driver?: string;
  readonly DriverOpts?: Record<string, string>;
  readonly Labels?: Record<string, string>;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const CAPABILITY = 'volumedriver';

export class VolumeService {
  readonly #plugins: PluginManager;
  readonly #file: string;
  readonly #volumes = new Map<string, VolumeRecord>();
  #lock: Promise<unknown> = Promise.resolve();
  /** Why the mapping must not be written (its file could not be read nor moved aside). */
  #readOnly: string | undefined;
  /** Volumes mounted into runs (see mounts.ts). */
  readonly #mounts: MountLedger;

  constructor(plugins: PluginManager, dataRoot: string) {
    this.#plugins = plugins;
    this.#file = join(dataRoot, 'volumes', 'volumes.json');
    this.#mounts = new MountLedger(join(dataRoot, 'volumes', 'mounts.json'));
  }

  /**
   * Loads the mapping and takes each volume's reference on its plugin. A file that cannot be read or holds
   * something else than volume records is never overwritten: it is renamed aside (the valid records are served)
   * and reported; if it cannot even be moved, the mapping is read-only until an operator fixes it.
   */
  init(): { missingDrivers: string[]; warnings: string[] } {
    mkdirSync(join(this.#file, '..'), { recursive: true, mode: 0o700 });
    const { records, warning, readOnly } = readVolumeFile(this.#file);
    this.#readOnly = readOnly;
    const warnings = warning ? [warning] : [];
    const missing: string[] = [];
    for (const r of records) {
      this.#volumes.set(r.Name, r);
      try {
        this.#plugins.acquire(r.Driver);
      } catch {
        missing.push(r.Driver);
      }
    }
    return { missingDrivers: [...new Set(missing)], warnings };
  }

  /** `POST /volumes/create`. Creating an existing name with the same driver returns it (Docker's behaviour). */
  create(req: CreateVolume): Promise<Volume> {
    return this.#serialised(async () => {
      const name = req.Name || randomName();
      if (!NAME.test(name)) {
        throw new InvalidParameterError(
          `invalid volume name "${name}": use [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at least 2 characters)`,
        );
      }
      if (!req.Driver || req.Driver === 'local') {
        throw new InvalidParameterError(
          'berth has no built-in "local" driver: name a volume plugin with -d <plugin>',
        );
      }
      const driver = this.#driverName(req.Driver);
      const existing = this.#volumes.get(name);
      if (existing) {
        if (existing.Driver !== driver) {
          throw new ConflictError(
            `volume ${name} already exists with driver ${existing.Driver}, not ${driver}`,
          );
        }
        return this.#inspect(existing);
      }
      const client = this.#plugins.client(driver, CAPABILITY);
      const caps = await client
        .call<{ Capabilities?: { Scope?: string } }>('VolumeDriver.Capabilities', {})
        .catch(() => ({}));
      await client.call('VolumeDriver.Create', { Name: name, Opts: req.DriverOpts ?? {} });
      const record: VolumeRecord = {
        Name: name,
        Driver: driver,
        Labels: req.Labels ?? {},
        Options: req.DriverOpts ?? {},
        CreatedAt: new Date().toISOString(),
        Scope:
          (caps as { Capabilities?: { Scope?: string } }).Capabilities?.Scope === 'global'
            ? 'global'
            : 'local',
      };
      this.#volumes.set(name, record);
      try {
        this.#save();
      } catch (err) {
        this.#volumes.delete(name);
        throw err;
      }
      this.#plugins.acquire(driver);
      return this.#inspect(record);
    });
  }

  /** `GET /volumes/{name}`. */
  async inspect(name: string): Promise<Volume> {
    const record = this.#volumes.get(name);
    if (!record) throw new NotFoundError(`get ${name}: no such volume`);
    return this.#inspect(record);
  }

  /** `GET /volumes`: recorded volumes merged with what each enabled driver lists. */
  async list(
    filters: ReadonlyMap<string, readonly string[]> = new Map(),
  ): Promise<{ Volumes: Volume[]; Warnings: string[] | null }> {
    const warnings: string[] = [];
    const out = new Map<string, Volume>();
    for (const r of this.#volumes.values()) out.set(r.Name, await this.#inspect(r));
    for (const p of this.#plugins.list({ enabled: true, capability: [CAPABILITY] })) {
      try {
        const listed = await this.#plugins
          .client(p.Name, CAPABILITY)
          .call<{ Volumes?: { Name: string; Mountpoint?: string }[] }>('VolumeDriver.List', {});
        for (const v of listed.Volumes ?? []) {
          if (out.has(v.Name)) continue;
          out.set(v.Name, {
            CreatedAt: '',
            Driver: p.Name,
            Labels: {},
            Mountpoint: v.Mountpoint ? this.#plugins.hostPath(p.Name, v.Mountpoint) : '',
            Name: v.Name,
            Options: {},
            Scope: 'local',
          });
        }
      } catch (err) {
        warnings.push(`${p.Name}: ${(err as Error).message}`);
      }
    }
    const volumes = [...out.values()].filter((v) => matches(v, filters));
    return { Volumes: volumes, Warnings: warnings.length ? warnings : null };
  }

  /** `DELETE /volumes/{name}`; with force the record goes even if the driver fails. */
  remove(name: string, o: { force?: boolean } = {}): Promise<void> {
    return this.#serialised(async () => {
      const record = this.#volumes.get(name);
      if (!record) {
        if (o.force) return;
        throw new NotFoundError(`get ${name}: no such volume`);
      }
      const users = this.#mounts.users(name);
      if (users.length && !o.force)
        throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      try {
        await this.#plugins.client(record.Driver, CAPABILITY).call('VolumeDriver.Remove', { Name: name });
      } catch (err) {
        if (!o.force) throw err;
      }
      this.#volumes.delete(name);
      this.#save();
      try {
        this.#plugins.release(record.Driver);
      } catch {
        // the plugin is gone already
      }
    });
  }

  /** `POST /volumes/prune`: removes every volume no run is using. */
  async prune(): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    for (const name of [...this.#volumes.keys()]) {
      await this.remove(name).then(
        () => deleted.push(name),
        () => undefined,
      );
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: 0 };
  }

  /**
   * Mounts volume `name` for run `run` (`docker run -v NAME:/path`): creates it with `driver` when it does not
   * exist, records the mount, then calls `VolumeDriver.Mount` with a fresh mount id. The driver plugin is
   * held (disable needs force) until {@link unmount}. Returns the id and the mountpoint on the host.
   * @throws the driver's error as `error while mounting volume '<name>': VolumeDriver.Mount: <its message>`
   */
  async mount(
    name: string,
    o: { run: string; driver?: string },
  ): Promise<{ ID: string; Mountpoint: string }> {
    if (!this.#volumes.has(name)) {
      if (!o.driver)
        throw new NotFoundError(
          `no such volume: ${name}; create it (berth volume create -d PLUGIN ${name}) or give --volume-driver PLUGIN`,
        );
      await this.create({ Name: name, Driver: o.driver });
    }
    return this.#serialised(async () => {
      const record = this.#volumes.get(name);
      if (!record) throw new NotFoundError(`get ${name}: no such volume`);
      if (o.driver && this.#driverName(o.driver) !== record.Driver)
        throw new ConflictError(`volume ${name} exists with driver ${record.Driver}, not ${o.driver}`);
      const client = this.#plugins.client(record.Driver, CAPABILITY);
      const ID = randomBytes(32).toString('hex');
      this.#mounts.add({ Name: name, Driver: record.Driver, ID, Run: o.run });
      this.#plugins.acquire(record.Driver);
      try {
        const got = await client.call<{ Mountpoint?: string }>('VolumeDriver.Mount', { Name: name, ID });
        if (!got.Mountpoint) throw new SystemError('VolumeDriver.Mount: the driver returned no Mountpoint');
        return { ID, Mountpoint: this.#plugins.hostPath(record.Driver, got.Mountpoint) };
      } catch (err) {
        this.#mounts.remove(ID);
        this.#plugins.release(record.Driver);
        throw rewrap(err, `error while mounting volume '${name}'`);
      }
    });
  }

  /**
   * `VolumeDriver.Unmount` with the id of the Mount. On success the record and the plugin reference go; on
   * failure they stay, and the next berthd start tries again.
   */
  unmount(name: string, id: string): Promise<void> {
    return this.#serialised(async () => {
      const m = this.#mounts.all().find((x) => x.ID === id);
      if (!m) return;
      try {
        await this.#plugins.client(m.Driver, CAPABILITY).call('VolumeDriver.Unmount', { Name: name, ID: id });
      } catch (err) {
        // A volume removed with force meanwhile has nothing left to retry: its record goes anyway.
        if (this.#volumes.has(name)) throw rewrap(err, `error while unmounting volume '${name}'`);
      }
      this.#mounts.remove(id);
      this.#plugins.release(m.Driver);
    });
  }

  /**
   * At start: the mounts a previous berthd recorded and did not undo (it was killed during a run) are
   * unmounted now; those whose driver cannot be reached stay recorded (and keep their plugin in use).
   */
  async reconcileMounts(): Promise<{ unmounted: string[]; failed: string[] }> {
    const { problems } = this.#mounts.load();
    const unmounted: string[] = [];
    const failed = [...problems];
    for (const m of this.#mounts.all()) {
      try {
        this.#plugins.acquire(m.Driver);
      } catch {
        failed.push(`${m.Name} (run ${m.Run}): plugin ${m.Driver} is not installed`);
        continue;
      }
      await this.unmount(m.Name, m.ID).then(
        () => unmounted.push(`${m.Name} (run ${m.Run})`),
        (err: Error) => failed.push(`${m.Name} (run ${m.Run}): ${err.message}`),
      );
    }
    return { unmounted, failed };
  }

  #driverName(driver: string): string {
    return this.#plugins.inspect(driver).Name;
  }

  async #inspect(r: VolumeRecord): Promise<Volume> {
    const base = {
      CreatedAt: r.CreatedAt,
      Driver: r.Driver,
      Labels: r.Labels,
      Name: r.Name,
      Options: r.Options,
      Scope: r.Scope,
    };
    try {
      const got = await this.#plugins
        .client(r.Driver, CAPABILITY)
        .call<{ Volume?: { Mountpoint?: string; Status?: Record<string, unknown> } }>('VolumeDriver.Get', {
          Name: r.Name,
        });
      const mountpoint = got.Volume?.Mountpoint
        ? this.#plugins.hostPath(r.Driver, got.Volume.Mountpoint)
        : '';
      return {
        ...base,
        Mountpoint: mountpoint,
        ...(got.Volume?.Status ? { Status: got.Volume.Status } : {}),
      };
    } catch (err) {
      // The driver is down or disabled: the volume is still ours, shown with why it cannot be reached.
      return { ...base, Mountpoint: '', Status: { error: (err as Error).message } };
    }
  }

  #save(): void {
    if (this.#readOnly) throw new UnavailableError(this.#readOnly);
    writeFileAtomicSync(this.#file, `${JSON.stringify([...this.#volumes.values()])}\n`, 0o600);
  }

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

/** The same kind of error with `prefix: ` before its message (so its HTTP status stays the driver's). */
function rewrap(err: unknown, prefix: string): Error {
  const message = `${prefix}: ${(err as Error).message}`;
  if (err instanceof BerthError) {
    const Kind = err.constructor as new (m: string, o?: { cause?: unknown }) => BerthError;
    return new Kind(message, { cause: err });
  }
  return new SystemError(message, { cause: err });
}

function randomName(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

function matches(v: Volume, filters: ReadonlyMap<string, readonly string[]>): boolean {
  for (const [key, values] of filters) {
    if (key === 'name' && !values.some((n) => v.Name.includes(n))) return false;
    if (key === 'driver' && !values.some((d) => v.Driver === d || v.Driver === `${d}:latest`)) return false;
    if (key === 'label') {
      const ok = values.every((l) => {
        const [k, val] = l.split('=', 2) as [string, string | undefined];
        return k in v.Labels && (val === undefined || v.Labels[k] === val);
      });
      if (!ok) return false;
    }
  }
  return true;
}
