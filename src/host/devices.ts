/**
 * Reads device nodes from the host, as moby's `oci.DevicesFromPath` does. This is the only place spec
 * building touches the host for devices; the result is plain {@link LinuxDevice} data.
 *
 * The reads are synchronous on purpose: each is a microsecond-scale metadata syscall on /dev, while the
 * async versions cost a thread-pool round trip (~50 µs) each and buy no useful concurrency here.
 *
 * @module
 */
import { type BigIntStats, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { InvalidParameterError } from '../errdefs/index.ts';
import type { LinuxDevice } from '../oci/index.ts';
import { errnoText } from './errno.ts';

const S_IFMT = 0o170000n;
const DEVICE_TYPES = new Map<bigint, 'b' | 'c' | 'p'>([
  [0o060000n, 'b'],
  [0o020000n, 'c'],
  [0o010000n, 'p'],
]);

/** glibc's `gnu_dev_major` / `gnu_dev_minor` for a 64-bit dev_t. */
export function splitDevNumber(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

class NotADeviceError extends Error {
  constructor() {
    super('not a device node');
  }
}

/** The device described by `st` (an lstat of `path`), or NotADeviceError. */
function deviceFromStat(path: string, st: BigIntStats): LinuxDevice {
  const type = DEVICE_TYPES.get(st.mode & S_IFMT);
  if (!type) throw new NotADeviceError();
  const { major, minor } = splitDevNumber(st.rdev);
  return {
    path,
    type,
    major,
    minor,
    fileMode: Number(st.mode & ~S_IFMT),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

const lstatBig = (path: string): BigIntStats => lstatSync(path, { bigint: true });

/** Byte order, as Go's sorted directory reads (the walk order moby produces). */
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Every device node under `dir`, depth first in byte order; unreadable entries are skipped. */
function devicesUnder(dir: string): LinuxDevice[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort(byBytes);
  } catch {
    return [];
  }
  const found: LinuxDevice[] = [];
  for (const name of names) {
    const path = `${dir}/${name}`;
    const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    if (st?.isDirectory()) found.push(...devicesUnder(path));
    else if (st && DEVICE_TYPES.has(st.mode & S_IFMT)) found.push(deviceFromStat(path, st));
  }
  return found;
}

/** The link's target, or the link itself when it cannot be followed (as moby). */
function resolveLink(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Resolves a host path into the device nodes a container should get, mirroring moby:
 * a symlink is resolved first; a device node (block, char or FIFO) gives one device at `containerPath`;
 * a directory is walked and every device node below it is added, its path re-rooted at `containerPath`.
 *
 * @param hostPath the path on the host, e.g. `/dev/fuse` or `/dev/snd`
 * @param containerPath where the node(s) appear in the container
 * @returns one or more devices, with major/minor, mode, uid and gid read from the host
 * @throws {InvalidParameterError} when nothing is found, with Docker's message
 *   `error gathering device information while adding custom device "<path>": <reason>`
 */
export function devicesFromPath(hostPath: string, containerPath: string): LinuxDevice[] {
  let resolved = hostPath;
  let reason: unknown;
  try {
    let st = lstatBig(hostPath);
    if (st.isSymbolicLink()) {
      resolved = resolveLink(hostPath);
      st = lstatBig(resolved);
    }
    return [deviceFromStat(containerPath, st)];
  } catch (err) {
    reason = err;
  }
  if (reason instanceof NotADeviceError && statSync(resolved, { throwIfNoEntry: false })?.isDirectory()) {
    const found = devicesUnder(resolved);
    if (found.length > 0) {
      return found.map((d) => ({ ...d, path: containerPath + d.path.slice(resolved.length) }));
    }
  }
  throw new InvalidParameterError(
    `error gathering device information while adding custom device "${hostPath}": ${errnoText(reason)}`,
    { cause: reason },
  );
}
