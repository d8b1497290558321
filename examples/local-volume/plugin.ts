/**
 * berth's example managed plugin: a local volume driver speaking Docker's VolumeDriver protocol over
 * /run/docker/plugins/local-volume.sock. Volumes are directories under the propagated mount (/data), so their
 * mountpoints are visible on the host. Node standard library only; compiled to one JS file by package.ts.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

const SOCKET = `/run/docker/plugins/${process.env.SOCKET_NAME ?? 'local-volume.sock'}`;
const ROOT = process.env.VOLUME_ROOT ?? '/data/volumes';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

type Body = Record<string, unknown>;
type Handler = (body: Body) => Body;

const mounts = new Map<string, Set<string>>();

function volumePath(body: Body): string {
  const name = String(body.Name ?? '');
  if (!NAME.test(name)) throw new Error(`invalid volume name ${JSON.stringify(name)}`);
  return join(ROOT, name);
}

function existing(body: Body): string {
  const path = volumePath(body);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`no such volume: ${String(body.Name)}`);
  return path;
}

const handlers: Record<string, Handler> = {
  '/Plugin.Activate': () => ({ Implements: ['VolumeDriver'] }),
  '/VolumeDriver.Capabilities': () => ({ Capabilities: { Scope: 'local' } }),
  '/VolumeDriver.Create': (b) => {
    mkdirSync(volumePath(b), { recursive: true });
    return {};
  },
  '/VolumeDriver.Remove': (b) => {
    const path = existing(b);
    if (mounts.get(String(b.Name))?.size) throw new Error(`volume ${String(b.Name)} is in use`);
    rmSync(path, { recursive: true, force: true });
    return {};
  },
  '/VolumeDriver.Path': (b) => ({ Mountpoint: existing(b) }),
  '/VolumeDriver.Mount': (b) => {
    const path = existing(b);
    const users = mounts.get(String(b.Name)) ?? new Set<string>();
    users.add(String(b.ID ?? ''));
    mounts.set(String(b.Name), users);
    console.log(`VolumeDriver.Mount ${String(b.Name)} ${String(b.ID ?? '')}`); // in the plugin log, for users and tests
    return { Mountpoint: path };
  },
  '/VolumeDriver.Unmount': (b) => {
    existing(b);
    mounts.get(String(b.Name))?.delete(String(b.ID ?? ''));
    console.log(`VolumeDriver.Unmount ${String(b.Name)} ${String(b.ID ?? '')}`);
    return {};
  },
  '/VolumeDriver.Get': (b) => {
    const path = existing(b);
    return {
      Volume: {
        Name: b.Name,
        Mountpoint: path,
        CreatedAt: statSync(path).birthtime.toISOString(),
        Status: {},
      },
    };
  },
  '/VolumeDriver.List': () => {
    mkdirSync(ROOT, { recursive: true });
    return { Volumes: readdirSync(ROOT).map((Name) => ({ Name, Mountpoint: join(ROOT, Name) })) };
  },
};

function reply(res: ServerResponse, status: number, body: Body): void {
  res.writeHead(status, { 'Content-Type': 'application/vnd.docker.plugins.v1+json' });
  res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const handler = req.method === 'POST' ? handlers[req.url ?? ''] : undefined;
    if (!handler) return reply(res, 404, { Err: `unknown method ${req.method} ${req.url}` });
    try {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      reply(res, 200, handler(text ? (JSON.parse(text) as Body) : {}));
    } catch (err) {
      reply(res, 500, { Err: (err as Error).message });
    }
  });
}

mkdirSync(ROOT, { recursive: true });
rmSync(SOCKET, { force: true });
const server = createServer(handle).listen(SOCKET, () =>
  console.log(`local-volume: listening on ${SOCKET}, volumes in ${ROOT}`),
);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
