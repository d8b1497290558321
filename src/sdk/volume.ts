/**
 * The volume driver protocol (`docker.volumedriver/1.0`, `VolumeDriver.*`), as Docker's plugin API documents it.
 *
 * @module
 */
import { asVoid, type Protocol } from './route.ts';

export interface VolumeCreateRequest {
  readonly Name: string;
  /** `docker volume create -o k=v`; absent when none were given. */
  readonly Opts?: Readonly<Record<string, string>>;
}
export interface VolumeNameRequest {
  readonly Name: string;
}
export interface VolumeMountRequest {
  readonly Name: string;
  /** The caller's unique id for this mount (a container id); Unmount gets the same. */
  readonly ID: string;
}
export interface Volume {
  readonly Name: string;
  readonly Mountpoint?: string;
  /** RFC 3339. */
  readonly CreatedAt?: string;
  readonly Status?: Readonly<Record<string, unknown>>;
}
export interface VolumeMountpoint {
  readonly Mountpoint: string;
}
export interface VolumeCapabilities {
  /** `local` (default) or `global` (the same volume on every node). */
  readonly Scope: 'local' | 'global';
}

type Maybe<T> = T | Promise<T>;

/** A volume driver. Throwing anywhere answers `{"Err": message}`, which Docker shows the user. */
export interface VolumeDriver {
  create(req: VolumeCreateRequest): Maybe<void>;
  remove(req: VolumeNameRequest): Maybe<void>;
  /** Where the volume is mounted; called without a prior Mount, so answer for an unmounted volume too. */
  path(req: VolumeNameRequest): Maybe<VolumeMountpoint>;
  mount(req: VolumeMountRequest): Maybe<VolumeMountpoint>;
  unmount(req: VolumeMountRequest): Maybe<void>;
  get(req: VolumeNameRequest): Maybe<Volume>;
  list(): Maybe<readonly Volume[]>;
  /** Default: `{Scope: "local"}`. */
  capabilities?(): Maybe<VolumeCapabilities>;
}

const NAME = { Name: 'string' } as const;
const MOUNT = { Name: 'string', ID: 'string?' } as const;
type Req<T> = Record<string, unknown> & T;

export const volumeProtocol: Protocol<VolumeDriver> = {
  implements: 'VolumeDriver',
  routes: [
    {
      method: 'VolumeDriver.Create',
      fields: { Name: 'string', Opts: 'map?' },
      run: (h, r) => asVoid(h.create(r as Req<VolumeCreateRequest>)),
    },
    {
      method: 'VolumeDriver.Remove',
      fields: NAME,
      run: (h, r) => asVoid(h.remove(r as Req<VolumeNameRequest>)),
    },
    { method: 'VolumeDriver.Path', fields: NAME, run: (h, r) => h.path(r as Req<VolumeNameRequest>) },
    {
      method: 'VolumeDriver.Mount',
      fields: MOUNT,
      run: (h, r) => h.mount({ ID: '', ...r } as Req<VolumeMountRequest>),
    },
    {
      method: 'VolumeDriver.Unmount',
      fields: MOUNT,
      run: (h, r) => asVoid(h.unmount({ ID: '', ...r } as Req<VolumeMountRequest>)),
    },
    {
      method: 'VolumeDriver.Get',
      fields: NAME,
      run: async (h, r) => ({ Volume: await h.get(r as Req<VolumeNameRequest>) }),
    },
    { method: 'VolumeDriver.List', fields: {}, run: async (h) => ({ Volumes: await h.list() }) },
    {
      method: 'VolumeDriver.Capabilities',
      fields: {},
      run: async (h) => ({ Capabilities: (await h.capabilities?.()) ?? { Scope: 'local' } }),
    },
  ],
};
