import { PassThrough } from 'node:stream';
import { InvalidParameterError } from '../../errdefs/index.ts';
import type { Backend } from '../backend.ts';
import { type EngineEvent, EVENT_FILTER_KEYS, eventMatches, parseEventTime } from '../events.ts';
import { parseFilters } from '../query.ts';
import type { ApiServer } from '../server/server.ts';
import { olderThan, requestApiVersion } from '../versions.ts';

type Query = Record<string, string | undefined>;

function time(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  return parseEventTime(raw, name);
}

/** API 1.52 dropped the legacy `status`, `id` and `from` fields that dockerd kept sending since 1.22. */
export function eventShapeFor(version: string): (e: EngineEvent) => EngineEvent {
  if (olderThan(version, '1.52')) return (e) => e;
  return ({ status: _s, id: _i, from: _f, ...rest }) => rest;
}

/**
 * `GET /events`: the backlog since `since`, then live events until `until` (or until the client leaves), one JSON
 * object per line, as dockerd streams them.
 */
export function registerEventRoutes(app: ApiServer, backend: Backend): void {
  app.get('/events', async (req, reply) => {
    const q = req.query as Query;
    const since = time(q.since, 'since');
    const until = time(q.until, 'until');
    const filters = parseFilters(q.filters);
    for (const key of filters.keys()) {
      if (!EVENT_FILTER_KEYS.includes(key)) throw new InvalidParameterError(`Invalid filter '${key}'`);
    }
    const out = new PassThrough();
    const shape = eventShapeFor(requestApiVersion(req.originalUrl));
    const send = (e: EngineEvent) => {
      if (eventMatches(e, filters) && (until === undefined || e.timeNano <= until))
        out.write(`${JSON.stringify(shape(e))}\n`);
    };
    for (const e of since === undefined ? [] : backend.events.since(since)) send(e);
    const now = Date.now() * 1e6;
    if (until !== undefined && until <= now) {
      out.end();
    } else {
      const unsubscribe = backend.events.subscribe(send);
      const timer = until === undefined ? undefined : setTimeout(() => out.end(), (until - now) / 1e6);
      reply.raw.on('close', () => {
        unsubscribe();
        clearTimeout(timer);
        out.end();
      });
    }
    return reply.type('application/json').send(out);
  });
}
