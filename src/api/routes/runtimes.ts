import { exportRuntimes, parseExportFormat } from '../../cluster/index.ts';
import { findExecutable } from '../../host/index.ts';
import type { Backend } from '../backend.ts';
import { queryBool } from '../query.ts';
import type { ApiServer } from '../server/server.ts';
import { runtimeView } from '../views.ts';

/** Where CRI-O packages install conmon, then PATH. */
const CONMON_PATH = `/usr/libexec/crio:/usr/local/libexec/crio:${process.env.PATH ?? ''}`;

/**
 * berth's runtime endpoints (no Docker equivalent): list, inspect, re-probe, reload.
 * `POST /runtimes/reload` answers only once the new set is live (or refused), with the diff.
 */
export function registerRuntimeRoutes(app: ApiServer, backend: Backend): void {
  const views = () => {
    const set = backend.runtimes.current();
    return [...set.runtimes.values()].map((rt) => runtimeView(rt, set.defaultRuntime));
  };

  app.get('/runtimes', async () => views());

  // The live registry as CRI configuration or Kubernetes objects (berth runtime export / configure).
  app.get('/runtimes/export', async (req) => {
    const format = parseExportFormat(req.query.format);
    const conmon = format === 'crio' ? findExecutable('conmon', CONMON_PATH) : undefined;
    const r = exportRuntimes(backend.runtimes.current(), {
      format,
      includeUnavailable: queryBool(req.query.includeUnavailable),
      ...(conmon?.found ? { monitorPath: conmon.path } : {}),
    });
    return {
      Format: r.format,
      Content: r.content,
      Handlers: r.handlers.map((h) => ({ Name: h.name, Handler: h.handler })),
      LeftOut: r.leftOut.map((l) => ({ Name: l.name, Reason: l.reason })),
      ...(r.defaultHandler ? { DefaultHandler: r.defaultHandler } : {}),
    };
  });

  app.get('/runtimes/:name', async (req) => {
    const set = backend.runtimes.current();
    return runtimeView(backend.runtimes.inspect(req.params.name ?? ''), set.defaultRuntime);
  });

  app.post('/runtimes/check', async () => {
    await backend.runtimes.check();
    return views();
  });

  app.post('/runtimes/:name/check', async (req) => {
    const [rt] = await backend.runtimes.check(req.params.name ?? '');
    return rt ? runtimeView(rt, backend.runtimes.current().defaultRuntime) : undefined;
  });

  app.post('/runtimes/reload', async () => {
    const { diff, set } = await backend.runtimes.reload();
    return {
      Generation: set.generation,
      DefaultRuntime: set.defaultRuntime,
      Added: diff.added,
      Removed: diff.removed,
      Changed: diff.changed,
      ...(diff.defaultRuntime
        ? { DefaultChanged: { From: diff.defaultRuntime.from, To: diff.defaultRuntime.to } }
        : {}),
      Runtimes: [...set.runtimes.values()].map((rt) => runtimeView(rt, set.defaultRuntime)),
    };
  });
}
