import { PassThrough } from 'node:stream';
import { InvalidParameterError, NotImplementedError } from '../../errdefs/index.ts';
import type { Backend } from '../backend.ts';
import type { RunRequest } from '../ports.ts';
import type { ApiServer } from '../server/server.ts';

/** Media type of a run's output: one JSON object per line (see {@link RunFrame}). */
export const RUN_STREAM_TYPE = 'application/x-ndjson';

/**
 * One line of a run's output stream: output chunks (base64, so any bytes survive), then exactly one final
 * `exit` or `error` line.
 */
export type RunFrame =
  | { readonly stdout: string }
  | { readonly stderr: string }
  | { readonly exit: { readonly code: number; readonly signal: string | null } }
  | { readonly error: string };

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');
const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((s) => typeof s === 'string');

/** The fields of volumes, log drivers and labels. @throws {InvalidParameterError} naming the field */
function checkPluginFields(b: Record<string, unknown>): void {
  if (b.binds !== undefined && !isStringArray(b.binds))
    throw new InvalidParameterError(
      'binds must be an array of "NAME:/path[:ro]" or "/host/dir:/path[:ro]" strings',
    );
  for (const key of ['volumeDriver', 'logDriver'])
    if (b[key] !== undefined && (typeof b[key] !== 'string' || b[key] === ''))
      throw new InvalidParameterError(`${key} must be a plugin name`);
  for (const key of ['logOpts', 'labels'])
    if (b[key] !== undefined && !isStringMap(b[key]))
      throw new InvalidParameterError(`${key} must be an object of string values, like {"key": "value"}`);
}

/** Checks a `POST /runs` body field by field. @throws {InvalidParameterError} naming the field */
export function parseRunRequest(body: unknown): RunRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError(
      'run request must be a JSON object like {"rootfs": "/path", "args": ["true"]}',
    );
  }
  const b = body as Record<string, unknown>;
  const known = [
    'runtime',
    'rootfs',
    'args',
    'env',
    'cwd',
    'readonlyRootfs',
    'binds',
    'volumeDriver',
    'logDriver',
    'logOpts',
    'labels',
  ];
  const unknown = Object.keys(b).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new InvalidParameterError(
      `run request: unknown field(s) ${unknown.join(', ')}; known: ${known.join(', ')}`,
    );
  if (b.runtime !== undefined && typeof b.runtime !== 'string')
    throw new InvalidParameterError('runtime must be a string');
  if (typeof b.rootfs !== 'string' || !b.rootfs.startsWith('/')) {
    throw new InvalidParameterError(`rootfs must be an absolute path, got ${JSON.stringify(b.rootfs)}`);
  }
  if (!isStringArray(b.args) || b.args.length === 0) {
    throw new InvalidParameterError('args must be a non-empty array of strings: the command to run');
  }
  if (b.env !== undefined && (!isStringArray(b.env) || b.env.some((e) => !/^[^=]+=/.test(e)))) {
    throw new InvalidParameterError('env must be an array of "NAME=value" strings');
  }
  if (b.cwd !== undefined && (typeof b.cwd !== 'string' || !b.cwd.startsWith('/'))) {
    throw new InvalidParameterError(`cwd must be an absolute path, got ${JSON.stringify(b.cwd)}`);
  }
  if (b.readonlyRootfs !== undefined && typeof b.readonlyRootfs !== 'boolean') {
    throw new InvalidParameterError('readonlyRootfs must be a boolean');
  }
  checkPluginFields(b);
  return b as unknown as RunRequest;
}

/** `POST /runs`: runs a command and streams its output, ending with its exit status. */
export function registerRunRoutes(app: ApiServer, backend: Backend): void {
  app.post('/runs', async (req, reply) => {
    const handle = await backend.runs.run(parseRunRequest(req.body));
    const out = new PassThrough();
    const frame = (f: RunFrame) => out.write(`${JSON.stringify(f)}\n`);
    handle.stdout.on('data', (b: Buffer) => frame({ stdout: b.toString('base64') }));
    handle.stderr.on('data', (b: Buffer) => frame({ stderr: b.toString('base64') }));
    // A client that goes away takes its container with it.
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) void handle.kill();
    });
    handle.exited.then(
      (s) =>
        out.end(
          `${JSON.stringify(s.error ? { error: s.error } : { exit: { code: s.code, signal: s.signal } })}\n`,
        ),
      (err: Error) => out.end(`${JSON.stringify({ error: err.message })}\n`),
    );
    reply.header('X-Berth-Run-Id', handle.id).header('X-Berth-Runtime', handle.runtime);
    return reply.type(RUN_STREAM_TYPE).send(out);
  });

  /** `GET /runs/{id}/logs[?follow=1&tail=N]`: the run's output read back from its log driver, as run frames. */
  app.get('/runs/:id/logs', async (req, reply) => {
    if (!backend.runs.logs) throw new NotImplementedError('this berthd cannot read logs back');
    const tail = req.query.tail === undefined || req.query.tail === 'all' ? -1 : Number(req.query.tail);
    if (!Number.isInteger(tail) || tail < -1)
      throw new InvalidParameterError(`tail must be a number of lines or "all", got ${req.query.tail}`);
    const follow = req.query.follow === '1' || req.query.follow === 'true';
    const lines = await backend.runs.logs(req.params.id ?? '', { follow, tail });
    const out = new PassThrough();
    void (async () => {
      try {
        for await (const l of lines)
          out.write(`${JSON.stringify({ [l.source]: l.line.toString('base64') })}\n`);
        out.end();
      } catch (err) {
        out.end(`${JSON.stringify({ error: (err as Error).message })}\n`);
      }
    })();
    return reply.type(RUN_STREAM_TYPE).send(out);
  });
}
