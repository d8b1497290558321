/**
 * berth's example log-driver plugin (Docker's LogDriver protocol over /run/docker/plugins/log-file.sock): for
 * each StartLogging it reads the FIFO it is given, decodes the framed protobuf LogEntry records (4-byte
 * big-endian length + message, decoded with protobufjs) and appends each as one JSON line to
 * `<LOG_DIR>/<ContainerID>.log` in its propagated mount, so the host sees the files. It declares ReadLogs and
 * answers it from those files (Follow is not supported: it answers with what is there). Packaged by
 * examples/local-volume/package.ts with node and protobufjs in its rootfs.
 */
import {
  constants,
  createWriteStream,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs';

const SOCKET = `/run/docker/plugins/${process.env.SOCKET_NAME ?? 'log-file.sock'}`;
const LOG_DIR = process.env.LOG_DIR ?? '/data/logs';
const NEVER_READ = process.env.NEVER_READ === '1';

/** moby api/types/plugins/logdriver/entry.proto, declared field for field. */
const LogEntry = protobuf.Root.fromJSON({
  nested: {
    LogEntry: {
      fields: {
        source: { type: 'string', id: 1 },
        time_nano: { type: 'int64', id: 2 },
        line: { type: 'bytes', id: 3 },
        partial: { type: 'bool', id: 4 },
        partial_log_metadata: { type: 'PartialLogEntryMetadata', id: 5 },
      },
    },
    PartialLogEntryMetadata: {
      fields: {
        last: { type: 'bool', id: 1 },
        id: { type: 'string', id: 2 },
        ordinal: { type: 'int32', id: 3 },
      },
    },
  },
}).lookupType('LogEntry');

type Body = Record<string, unknown>;
interface Info {
  ContainerID: string;
}

/** Open FIFOs: reading ends when berth closes its end (before StopLogging). */
const streams = new Map<string, { done: Promise<void> }>();

const logFile = (id: string) => join(LOG_DIR, `${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);

function follow(file: string, info: Info): void {
  mkdirSync(LOG_DIR, { recursive: true });
  const marker = createWriteStream(logFile(info.ContainerID), { flags: 'a' });
  writeLine(marker, { event: 'start', file, info });
  marker.end();
  if (NEVER_READ) {
    streams.set(file, { done: Promise.resolve() });
    return;
  }
  const out = createWriteStream(logFile(info.ContainerID), { flags: 'a' });
  // A socket on the FIFO reads it on the event loop (a file stream would hold a thread-pool thread per run).
  const fifo = new Socket({
    fd: openSync(file, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
  let pending = Buffer.alloc(0);
  fifo.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk as Buffer]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const size = pending.readUInt32BE(0);
      const e = LogEntry.toObject(LogEntry.decode(pending.subarray(4, 4 + size)), {
        longs: String,
        bytes: String, // base64
        defaults: true,
      });
      writeLine(out, e);
      pending = pending.subarray(4 + size);
    }
  });
  const done = new Promise<void>((resolve) => {
    fifo.on('close', () => out.end(resolve));
    fifo.on('error', () => out.end(resolve));
  });
  streams.set(file, { done });
}

function writeLine(out: WriteStream, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}

async function stop(file: string): Promise<void> {
  const s = streams.get(file);
  streams.delete(file);
  await Promise.race([s?.done, new Promise((r) => setTimeout(r, 5000))]);
}

/** ReadLogs: the stored entries of one container as frames (the last `Tail` of them when Tail ≥ 0). */
function readLogs(b: Body, res: ServerResponse): void {
  const info = b.Info as Info;
  const tail = Number((b.Config as { Tail?: number } | undefined)?.Tail ?? -1);
  let lines: string[] = [];
  try {
    lines = readFileSync(logFile(info.ContainerID), 'utf8').split('\n').filter(Boolean);
  } catch {
    // nothing logged
  }
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => !('event' in e));
  res.writeHead(200, { 'Content-Type': 'application/x-json-stream' });
  for (const e of tail >= 0 ? entries.slice(Math.max(0, entries.length - tail)) : entries) {
    const body = LogEntry.encode(LogEntry.fromObject(e)).finish();
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    res.write(len);
    res.write(body);
  }
  res.end();
}

const handlers: Record<string, (b: Body) => Body | Promise<Body>> = {
  '/Plugin.Activate': () => ({ Implements: ['LogDriver'] }),
  '/LogDriver.Capabilities': () => ({ Cap: { ReadLogs: true } }),
  '/LogDriver.StartLogging': (b) => {
    follow(String(b.File), b.Info as Info);
    return {};
  },
  '/LogDriver.StopLogging': async (b) => {
    await stop(String(b.File));
    return {};
  },
};

function reply(res: ServerResponse, status: number, body: Body): void {
  res.writeHead(status, { 'Content-Type': 'application/vnd.docker.plugins.v1+json' });
  res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      const body = text ? (JSON.parse(text) as Body) : {};
      if (req.url === '/LogDriver.ReadLogs') return readLogs(body, res);
      const handler = req.method === 'POST' ? handlers[req.url ?? ''] : undefined;
      if (!handler) return reply(res, 404, { Err: `unknown method ${req.method} ${req.url}` });
      reply(res, 200, await handler(body));
    } catch (err) {
      reply(res, 500, { Err: (err as Error).message });
    }
  });
}

rmSync(SOCKET, { force: true });
const server = createServer(handle).listen(SOCKET, () =>
  console.log(
    `log-driver: listening on ${SOCKET}, logs in ${LOG_DIR}${NEVER_READ ? ' (never reading)' : ''}`,
  ),
);
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
