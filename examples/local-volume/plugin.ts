/**
 * berth's example managed plugin: a local volume driver. Volumes are directories under the propagated mount
 * (/data), so their mountpoints are visible on the host. Built by `berth plugin build examples/local-volume`.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from 'berth/plugin';

const ROOT = process.env.VOLUME_ROOT ?? '/data/volumes';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Who mounted each volume (Mount/Unmount ids), so a volume in use is not removed. */
const mounts = new Map<string, Set<string>>();

function volumePath(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid volume name ${JSON.stringify(name)}`);
  return join(ROOT, name);
}

function existing(name: string): string {
  const path = volumePath(name);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`no such volume: ${name}`);
  return path;
}

mkdirSync(ROOT, { recursive: true });
const server = await serve(
  {
    volume: {
      create: ({ Name }) => void mkdirSync(volumePath(Name), { recursive: true }),
      remove: ({ Name }) => {
        const path = existing(Name);
        if (mounts.get(Name)?.size) throw new Error(`volume ${Name} is in use`);
        rmSync(path, { recursive: true, force: true });
      },
      path: ({ Name }) => ({ Mountpoint: existing(Name) }),
      mount: ({ Name, ID }) => {
        const path = existing(Name);
        mounts.set(Name, (mounts.get(Name) ?? new Set()).add(ID));
        console.log(`VolumeDriver.Mount ${Name} ${ID}`); // in the plugin log, for users and tests
        return { Mountpoint: path };
      },
      unmount: ({ Name, ID }) => {
        existing(Name);
        mounts.get(Name)?.delete(ID);
        console.log(`VolumeDriver.Unmount ${Name} ${ID}`);
      },
      get: ({ Name }) => {
        const path = existing(Name);
        return { Name, Mountpoint: path, CreatedAt: statSync(path).birthtime.toISOString(), Status: {} };
      },
      list: () => readdirSync(ROOT).map((Name) => ({ Name, Mountpoint: join(ROOT, Name) })),
      capabilities: () => ({ Scope: 'local' }),
    },
  },
  { socket: process.env.SOCKET_NAME ?? 'local-volume.sock' },
);
console.log(`local-volume: listening on ${server.socket}, volumes in ${ROOT}`);
