/**
 * Volumes served by managed volume-driver plugins (`docker volume create -d <plugin>`), with Docker's Volume
 * shape. The volume → driver mapping is persisted atomically in `<data-root>/volumes/volumes.json`; each volume
 * holds a reference on its plugin, so the plugin cannot be disabled or removed without force while it has
 * volumes. A driver that is down does not lose anything: its volumes are listed with the error in `Status`.
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError, UnavailableError } from '../errdefs/index.ts';
import { errnoOf, errnoText, fromErrno, writeFileAtomicSync } from '../host/index.ts';
import type { PluginManager } from '../plugins/index.ts';

/** What berth records per volume. */
interface VolumeRecord {
  readonly Name: string;
  readonly Driver: string;
  readonly Labels: Record<string, string>;
  readonly Options: Record<string, string>;
  readonly CreatedAt: string;
  readonly Scope: 'local' | 'global';
}

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

const isStringMap = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');

function isVolumeRecord(v: unknown): v is VolumeRecord {
  const r = v as Partial<VolumeRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.Name === 'string' &&
    typeof r.Driver === 'string' &&
    isStringMap(r.Labels ?? {}) &&
    isStringMap(r.Options ?? {})
  );
}
const CAPABILITY = 'volumedriver';

export class VolumeService {
  readonly #plugins: PluginManager;
  readonly #file: string;
  readonly #volumes = new Map<string, VolumeRecord>();
  #lock: Promise<unknown> = Promise.resolve();
  /** Why the mapping must not be written (its file could not be read nor moved aside). */
  #readOnly: string | undefined;

  constructor(plugins: PluginManager, dataRoot: string) {
    this.#plugins = plugins;
    this.#file = join(dataRoot, 'volumes', 'volumes.json');
  }

  /**
   * Loads the mapping and takes each volume's reference on its plugin. A file that cannot be read or holds
   * something else than volume records is never overwritten: it is renamed aside (the valid records are served)
   * and reported; if it cannot even be moved, the mapping is read-only until an operator fixes it.
   */
  init(): { missingDrivers: string[]; warnings: string[] } {
    mkdirSync(join(this.#file, '..'), { recursive: true, mode: 0o700 });
    const { records, problem } = this.#read();
    const warnings = problem ? [this.#keepAside(problem)] : [];
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

  #read(): { records: VolumeRecord[]; problem?: string } {
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return { records: [] };
      return { records: [], problem: fromErrno(err, `cannot read ${this.#file}`).message };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { records: [], problem: `${this.#file} is not valid JSON: ${(err as Error).message}` };
    }
    if (!Array.isArray(parsed)) return { records: [], problem: `${this.#file} is not a list of volumes` };
    const records = parsed.filter(isVolumeRecord);
    const bad = parsed.length - records.length;
    return bad ? { records, problem: `${bad} entries of ${this.#file} are not volumes` } : { records };
  }

  /** Moves an unreadable mapping out of the way of the next save; says where it is. */
  #keepAside(problem: string): string {
    const aside = `${this.#file}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.#file, aside);
      return `${problem}; kept as ${aside} (volumes only listed there are not served: fix it and merge it back while berthd is stopped)`;
    } catch (err) {
      this.#readOnly = `${problem}, and it could not be moved aside (${errnoText(err)}): volumes cannot be created or removed until it is fixed or moved away`;
      return this.#readOnly;
    }
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

  /** `POST /volumes/prune`: removes every volume (berth runs no containers that could use one). */
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
