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
  ConflictError,
  DeadlineError,
  InvalidParameterError,
  NotFoundError,
  SystemError,
  UnavailableError,
} from '../errdefs/index.ts';
import { writeFileAtomicSync } from '../host/index.ts';
import type { PluginManager } from '../plugins/index.ts';
import { type ActiveMount, MountLedger } from './mounts.ts';
import { readVolumeFile, type VolumeRecord } from './volume-file.ts';
import { inspectVolume, matches, randomName, rewrap, unreachable } from './volume-helpers.ts';
import {
  CAPABILITY,
  type CreateVolume,
  DEFAULT_ANSWER_TIMEOUT_MS,
  DEFAULT_LIST_TIMEOUT_MS,
  DEFAULT_RESTORE_WAIT_MS,
  NAME,
  type Volume,
  type VolumeServiceOptions,
} from './volume-types.ts';

export class VolumeService {
  readonly #plugins: PluginManager;
  readonly #file: string;
  readonly #volumes = new Map<string, VolumeRecord>();
  readonly #listTimeoutMs: number;
  readonly #answerTimeoutMs: number;
  readonly #restoreWaitMs: number;
  #lock: Promise<unknown> = Promise.resolve();
  /** Why the mapping must not be written (its file could not be read nor moved aside). */
  #readOnly: string | undefined;
  /** Volumes mounted into runs (see mounts.ts). */
  readonly #mounts: MountLedger;
  /** What a killed berthd left in the ledger (read at init), for reconcileMounts; new runs' mounts are not in it. */
  #leftovers: { mounts: ActiveMount[]; problems: string[] } = { mounts: [], problems: [] };

  constructor(plugins: PluginManager, dataRoot: string, o: VolumeServiceOptions = {}) {
    this.#plugins = plugins;
    this.#file = join(dataRoot, 'volumes', 'volumes.json');
    this.#mounts = new MountLedger(join(dataRoot, 'volumes', 'mounts.json'));
    this.#listTimeoutMs = o.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS;
    this.#answerTimeoutMs = o.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
    this.#restoreWaitMs = o.restoreWaitMs ?? DEFAULT_RESTORE_WAIT_MS;
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
    // Now, before any run can add a mount: the mounts a killed berthd left are undone later (reconcileMounts).
    const { problems } = this.#mounts.load();
    this.#leftovers = { mounts: this.#mounts.all(), problems };
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
  async create(req: CreateVolume): Promise<Volume> {
    await this.#driverRestored(req.Driver);
    return this.#create(req);
  }

  #create(req: CreateVolume): Promise<Volume> {
    const pending = { call: '', driver: '' };
    const work = this.#serialised(async () => {
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
        return inspectVolume(this.#plugins, existing, this.#listTimeoutMs);
      }
      const client = this.#plugins.client(driver, CAPABILITY);
      pending.driver = driver;
      pending.call = 'VolumeDriver.Capabilities';
      // Optional, so bounded like a listing: a driver that does not answer it is asked to create anyway.
      const caps = await client
        .call<{ Capabilities?: { Scope?: string } }>(
          'VolumeDriver.Capabilities',
          {},
          { timeoutMs: this.#listTimeoutMs },
        )
        .catch(() => ({}));
      pending.call = 'VolumeDriver.Create';
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
      return inspectVolume(this.#plugins, record, this.#listTimeoutMs);
    });
    return this.#answerWithin(work, () =>
      pending.call
        ? `${pending.call}: plugin ${pending.driver} did not answer within ${this.#answerTimeoutMs / 1000} s; berth keeps waiting for it and records the volume if the plugin creates it`
        : `volume create is queued behind other volume operations for more than ${this.#answerTimeoutMs / 1000} s`,
    );
  }

  /** `GET /volumes/{name}`: a driver that does not answer in time shows the error in `Status`. */
  async inspect(name: string): Promise<Volume> {
    const record = this.#volumes.get(name);
    if (!record) throw new NotFoundError(`get ${name}: no such volume`);
    await this.#driverRestored(record.Driver);
    return inspectVolume(this.#plugins, record, this.#listTimeoutMs);
  }

  /**
   * `GET /volumes`: recorded volumes merged with what each enabled driver lists. Drivers are asked in parallel,
   * each within the list timeout: a silent driver costs that long once, its known volumes are listed with the
   * error in their `Status`, and the warning names it.
   */
  async list(
    filters: ReadonlyMap<string, readonly string[]> = new Map(),
  ): Promise<{ Volumes: Volume[]; Warnings: string[] | null }> {
    const drivers = new Set([
      ...[...this.#volumes.values()].map((r) => r.Driver),
      ...this.#plugins.list({ enabled: true, capability: [CAPABILITY] }).map((p) => p.Name),
    ]);
    const answers = await Promise.all([...drivers].map((d) => this.#listDriver(d)));
    const out = new Map<string, Volume>();
    for (const a of answers) for (const v of a.recorded) out.set(v.Name, v);
    for (const a of answers) for (const v of a.listed) if (!out.has(v.Name)) out.set(v.Name, v);
    const warnings = answers.flatMap((a) => (a.warning ? [a.warning] : []));
    const volumes = [...out.values()].filter((v) => matches(v, filters));
    return { Volumes: volumes, Warnings: warnings.length ? warnings : null };
  }

  /** One driver's part of a listing: its recorded volumes (Get) and what it lists (List), within the timeout. */
  async #listDriver(driver: string): Promise<{ recorded: Volume[]; listed: Volume[]; warning?: string }> {
    const timeoutMs = this.#listTimeoutMs;
    const records = [...this.#volumes.values()].filter((r) => r.Driver === driver);
    const late = await this.#driverRestored(driver)?.then(
      () => undefined,
      (err: Error) => err.message,
    );
    if (late)
      return {
        recorded: records.map((r) => unreachable(r, late)),
        listed: [],
        warning: `${driver}: ${late}`,
      };
    const enabled = this.#plugins
      .list({ enabled: true, capability: [CAPABILITY] })
      .some((p) => p.Name === driver);
    if (!enabled)
      return {
        recorded: await Promise.all(records.map((r) => inspectVolume(this.#plugins, r, timeoutMs))),
        listed: [],
      };
    const listing = this.#plugins
      .client(driver, CAPABILITY)
      .call<{ Volumes?: { Name: string; Mountpoint?: string }[] }>('VolumeDriver.List', {}, { timeoutMs });
    const [listed, recorded] = await Promise.all([
      listing.then(
        (l) => ({ volumes: l.Volumes ?? [] }),
        (err: Error) => ({ volumes: [], error: err.message }),
      ),
      Promise.all(records.map((r) => inspectVolume(this.#plugins, r, timeoutMs))),
    ]);
    return {
      recorded,
      listed: listed.volumes.map((v) => ({
        CreatedAt: '',
        Driver: driver,
        Labels: {},
        Mountpoint: v.Mountpoint ? this.#plugins.hostPath(driver, v.Mountpoint) : '',
        Name: v.Name,
        Options: {},
        Scope: 'local',
      })),
      ...('error' in listed ? { warning: `${driver}: ${listed.error}` } : {}),
    };
  }

  /** `DELETE /volumes/{name}`; with force the record goes even if the driver fails. */
  async remove(name: string, o: { force?: boolean } = {}): Promise<void> {
    await this.#driverRestored(this.#volumes.get(name)?.Driver);
    return this.#remove(name, o);
  }

  #remove(name: string, o: { force?: boolean }): Promise<void> {
    let driver = '';
    const work = this.#serialised(async () => {
      const record = this.#volumes.get(name);
      if (!record) {
        if (o.force) return;
        throw new NotFoundError(`get ${name}: no such volume`);
      }
      const users = this.#mounts.users(name);
      if (users.length && !o.force)
        throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      driver = record.Driver;
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
    return this.#answerWithin(work, () =>
      driver
        ? `VolumeDriver.Remove: plugin ${driver} did not answer within ${this.#answerTimeoutMs / 1000} s; berth keeps waiting for it and forgets volume ${name} if the plugin removes it`
        : `volume remove is queued behind other volume operations for more than ${this.#answerTimeoutMs / 1000} s`,
    );
  }

  /** `work`'s outcome, or a 504 once the answer timeout passes (`work` goes on; its outcome is kept). */
  #answerWithin<T>(work: Promise<T>, why: () => string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError(why())), this.#answerTimeoutMs);
    });
    work.catch(() => undefined); // after a 504 the client has gone: a late failure has no one to go to
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  /** `POST /volumes/prune`: removes every volume no run is using. */
  async prune(): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    // All queued at once (they still run one at a time), so a hung driver costs one answer timeout, not one each.
    const names = [...this.#volumes.keys()];
    const removed = await Promise.all(
      names.map((name) =>
        this.remove(name).then(
          () => true,
          () => false,
        ),
      ),
    );
    return { VolumesDeleted: names.filter((_, i) => removed[i]), SpaceReclaimed: 0 };
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
    await this.#driverRestored(this.#volumes.get(name)?.Driver ?? o.driver);
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
    const unmounted: string[] = [];
    const failed = [...this.#leftovers.problems];
    for (const m of this.#leftovers.mounts) {
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

  /** A driver berthd is still restoring is waited for (bounded: then 503 naming it); undefined otherwise. */
  #driverRestored(driver: string | undefined): Promise<void> | undefined {
    if (!driver) return undefined;
    return this.#plugins.whenRestored(
      driver,
      this.#restoreWaitMs,
      (name) => new UnavailableError(`starting: volume driver ${name} not ready`),
    );
  }

  #driverName(driver: string): string {
    return this.#plugins.inspect(driver).Name;
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
