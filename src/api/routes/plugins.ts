/**
 * Docker's plugin endpoints (Engine API 1.41, plugins.md §6.3) with Docker's shapes and codes, except that user
 * errors get 4xx instead of 500. Names contain `/` and `:`, so one wildcard route splits name and action.
 *
 * @module
 */
import { PassThrough, Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError, RequestTimeoutError } from '../../errdefs/index.ts';
import { canonicalKeys, type FieldSchema } from '../../gojson/index.ts';
import type {
  PluginFilters,
  PluginPrivilege,
  ProgressMessage,
  TransferOptions,
} from '../../plugins/index.ts';
import { decodeRegistryAuth } from '../../registry/index.ts';
import type { Backend } from '../backend.ts';
import { RAW_BODY } from '../body.ts';
import { parseFilters, queryBool } from '../query.ts';
import type { ApiReply } from '../server/reply.ts';
import type { ApiRequest } from '../server/request.ts';
import type { ApiServer } from '../server/server.ts';
import { updatePlugin } from './plugin-update.ts';

const ACTIONS = ['json', 'enable', 'disable', 'set', 'upgrade', 'push', 'logs', 'update'];

type Query = Record<string, string | undefined>;

/**
 * `/plugins/research/vol:latest/enable` → name + action; a bare `/plugins/<name>` has no action. The wildcard
 * is already percent-decoded by the router: decoding again would turn a name with `%` into a 500.
 */
export function splitPath(rest: string): { name: string; action: string } {
  const slash = rest.lastIndexOf('/');
  const last = rest.slice(slash + 1);
  if (slash > 0 && ACTIONS.includes(last)) return { name: rest.slice(0, slash), action: last };
  return { name: rest, action: '' };
}

/** `?restart=true` (berth: reconfigure an enabled plugin in place) and `?force=true` (even while in use). */
function reconfigureQuery(q: Query): { restart: boolean; force: boolean } {
  return { restart: queryBool(q.restart), force: queryBool(q.force) };
}

/** No filters: shared, as the manager only reads it. */
const NO_FILTERS: PluginFilters = Object.freeze({});

function toFilters(raw: unknown): PluginFilters {
  if (raw === undefined || raw === '') return NO_FILTERS;
  const filters = parseFilters(raw);
  const out: { enabled?: boolean; capability?: string[] } = {};
  for (const [key, values] of filters) {
    if (key === 'enabled') {
      if (values.length !== 1 || !['true', 'false'].includes(values[0] ?? '')) {
        throw new InvalidParameterError(`Invalid filter 'enabled=[${values.join(' ')}]'`);
      }
      out.enabled = values[0] === 'true';
    } else if (key === 'capability') out.capability = values;
    else throw new InvalidParameterError(`Invalid filter '${key}'`);
  }
  return out;
}

/** The body of `GET /plugins?filters=…` (also answered by api/fast-path.ts). @throws {InvalidParameterError} bad filters */
export function pluginListing(plugins: Backend['plugins'], query: Query): string | Buffer {
  return plugins.listJson(toFilters(query.filters));
}

/** `timeout` of enable: optional here (dockerd: required, 500 without it); a non-negative integer of seconds. */
function enableTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw))
    throw new InvalidParameterError(`timeout must be a non-negative integer of seconds, got "${raw}"`);
  const seconds = Number(raw);
  return seconds === 0 ? undefined : seconds * 1000;
}

/** Docker's PluginPrivilege list as Go decodes it (field names in any case). */
const PRIVILEGE_FIELDS: FieldSchema = { items: { properties: { Name: {}, Description: {}, Value: {} } } };

/** The privileges array a client sends back to pull and upgrade (`[]` allowed, absent = none granted). */
function parsePrivileges(raw: unknown): PluginPrivilege[] | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const body = canonicalKeys(raw, PRIVILEGE_FIELDS, 'body').value;
  const ok =
    Array.isArray(body) &&
    body.every(
      (p) =>
        typeof p === 'object' &&
        p !== null &&
        typeof p.Name === 'string' &&
        Array.isArray(p.Value) &&
        p.Value.every((v: unknown) => typeof v === 'string'),
    );
  if (!ok) {
    throw new InvalidParameterError(
      'failed to parse privileges: the body must be a JSON array of {"Name","Description","Value":[…]} as GET /plugins/privileges returns',
    );
  }
  return (body as PluginPrivilege[]).map((p) => ({
    Name: p.Name,
    Description: p.Description ?? '',
    Value: p.Value,
  }));
}

/**
 * Runs a registry transfer as Docker streams it: checks that fail before `onReady` answer with their own status;
 * after it, a 200 stream of JSON progress lines (with `Docker-Plugin-Name`), and a late error as Docker's
 * `{"errorDetail":{"message"},"error"}` line.
 */
async function streamTransfer(
  reply: ApiReply,
  run: (o: Required<Pick<TransferOptions, 'progress' | 'onReady' | 'signal'>>) => Promise<unknown>,
): Promise<ApiReply> {
  const out = new PassThrough();
  // A client that goes away (Ctrl-C on docker plugin install) cancels the transfer.
  const gone = new AbortController();
  let finished = false;
  reply.raw.on('close', () => {
    if (!finished) gone.abort(new Error('the client went away'));
  });
  const write = (m: ProgressMessage | Record<string, unknown>) => out.write(`${JSON.stringify(m)}\n`);
  let onReady: (name: string) => void = () => {};
  const ready = new Promise<string>((resolve) => {
    onReady = resolve;
  });
  const done = run({ progress: write, onReady, signal: gone.signal }).finally(() => {
    finished = true;
  });
  const name = await Promise.race([ready, done.then(() => '')]);
  done.then(
    () => out.end(),
    (err: Error) => {
      reply.log.warn({ url: reply.request.url }, `plugin transfer failed: ${err.message}`);
      write({ errorDetail: { message: err.message }, error: err.message });
      out.end();
    },
  );
  if (name) reply.header('Docker-Plugin-Name', name);
  return reply.code(200).type('application/json').send(out);
}

const registryAuth = (req: ApiRequest) =>
  decodeRegistryAuth(req.headers['x-registry-auth'] as string | undefined);

/** Reads and drops what is left of a request body (bounded, so a refused huge upload cannot pin us). */
async function drain(body: Readable, maxBytes = 1 << 30): Promise<void> {
  if (body.readableEnded || body.destroyed) return;
  let seen = 0;
  try {
    for await (const chunk of body) {
      seen += (chunk as Buffer).length;
      if (seen > maxBytes) break;
    }
  } catch {
    // the client went away
  }
}

export function registerPluginRoutes(app: ApiServer, backend: Backend): void {
  const plugins = backend.plugins;

  // Serialised by the manager, which reuses each Plugin object's JSON: byte for byte what JSON.stringify would write.
  app.get('/plugins', async (req, reply) =>
    reply.type('application/json').send(pluginListing(plugins, req.query as Query)),
  );

  app.get('/plugins/privileges', async (req) =>
    backend.distribution.privileges((req.query as Query).remote ?? '', registryAuth(req)),
  );

  app.post('/plugins/pull', async (req, reply) => {
    const q = req.query as Query;
    const privileges = parsePrivileges(req.body);
    const auth = registryAuth(req);
    return streamTransfer(reply, (o) =>
      backend.distribution.pull(q.remote ?? '', {
        ...o,
        auth,
        ...(q.name ? { name: q.name } : {}),
        ...(privileges ? { privileges } : {}),
      }),
    );
  });

  // A plugin context upload, whatever its Content-Type: the body stays a stream, unpacked (plain or gzip by its
  // magic bytes, with its own caps) by the manager.
  app.post(
    '/plugins/create',
    async (req: ApiRequest, reply: ApiReply) => {
      const q = req.query as Query;
      if (!q.name)
        throw new InvalidParameterError('name is required: POST /plugins/create?name=NAME with a tar body');
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        throw new InvalidParameterError(
          'the body must be a tar (plain or gzip) of the plugin context: config.json and rootfs/',
        );
      }
      try {
        await plugins.create(q.name, { tar: body }, q.runtime ? { runtime: q.runtime } : {});
      } catch (err) {
        // Let the client finish its upload, so it reads our answer instead of a broken pipe (a client that
        // stopped sending gets its 408 at once).
        if (!(err instanceof RequestTimeoutError)) await drain(body);
        throw err;
      }
      return reply.code(204).send();
    },
    RAW_BODY,
  );

  app.route(['GET', 'POST', 'DELETE'], '/plugins/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const { name, action } = splitPath(rest);
    const q = req.query as Query;
    const route = `${req.method} ${action}`;
    switch (route) {
      case 'GET json':
        return plugins.inspect(name);
      case 'DELETE ':
        await plugins.remove(name, { force: queryBool(q.force) });
        return reply.code(200).send();
      case 'POST enable': {
        const timeoutMs = enableTimeout(q.timeout);
        await plugins.enable(name, timeoutMs === undefined ? {} : { timeoutMs });
        return reply.code(200).send();
      }
      case 'POST disable':
        await plugins.disable(name, { force: queryBool(q.force) });
        return reply.code(200).send();
      case 'POST set': {
        const items = req.body;
        if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) {
          throw new InvalidParameterError('the body must be a JSON array of "name[.field]=value" strings');
        }
        await plugins.set(name, items, reconfigureQuery(q));
        return reply.code(204).send();
      }
      case 'POST update':
        return updatePlugin(plugins, name, req.body, reconfigureQuery(q));
      case 'GET logs': {
        if (!queryBool(q.follow))
          return reply.type('text/plain; charset=utf-8').send(backend.pluginLogs.read(name));
        const stop = new AbortController();
        const lines = backend.pluginLogs.follow(name, stop.signal);
        reply.raw.on('close', () => stop.abort());
        return reply.type('text/plain; charset=utf-8').send(Readable.from(lines));
      }
      case 'POST upgrade': {
        const privileges = parsePrivileges(req.body);
        const auth = registryAuth(req);
        return streamTransfer(reply, (o) =>
          backend.distribution.upgrade(name, q.remote ?? '', {
            ...o,
            auth,
            ...(privileges ? { privileges } : {}),
          }),
        );
      }
      case 'POST push': {
        const auth = registryAuth(req);
        return streamTransfer(reply, (o) => backend.distribution.push(name, { ...o, auth }));
      }
      default:
        throw new NotFoundError('page not found');
    }
  });
}
