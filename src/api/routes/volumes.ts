import { InvalidParameterError } from '../../errdefs/index.ts';
import { canonicalKeys, type FieldSchema } from '../../gojson/index.ts';
import type { CreateVolume } from '../../volumes/index.ts';
import type { Backend } from '../backend.ts';
import { parseFilters, queryBool } from '../query.ts';
import type { ApiServer } from '../server/server.ts';

type Query = Record<string, string | undefined>;
const FILTER_KEYS = ['name', 'driver', 'label', 'dangling'];

function isStringMap(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}

/** Docker's VolumeCreateBody as Go decodes it: field names in any case, map keys verbatim. */
const CREATE_FIELDS: FieldSchema = {
  properties: {
    Name: {},
    Driver: {},
    DriverOpts: { additionalProperties: {} },
    Labels: { additionalProperties: {} },
  },
};

function createRequest(body: unknown): CreateVolume {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError(
      'the body must be a JSON object like {"Name": "v1", "Driver": "example/vol"}',
    );
  }
  const b = canonicalKeys(body, CREATE_FIELDS, 'body').value as Record<string, unknown>;
  for (const key of ['Name', 'Driver'] as const) {
    if (b[key] !== undefined && typeof b[key] !== 'string')
      throw new InvalidParameterError(`${key} must be a string`);
  }
  for (const key of ['DriverOpts', 'Labels'] as const) {
    if (b[key] !== undefined && b[key] !== null && !isStringMap(b[key])) {
      throw new InvalidParameterError(`${key} must be an object of strings`);
    }
  }
  return {
    ...(b.Name ? { Name: b.Name as string } : {}),
    ...(b.Driver ? { Driver: b.Driver as string } : {}),
    ...(b.DriverOpts ? { DriverOpts: b.DriverOpts as Record<string, string> } : {}),
    ...(b.Labels ? { Labels: b.Labels as Record<string, string> } : {}),
  };
}

/** Docker's `/volumes` endpoints, served by managed volume-driver plugins. */
export function registerVolumeRoutes(app: ApiServer, backend: Backend): void {
  const volumes = backend.volumes;

  app.get('/volumes', async (req) => {
    const filters = parseFilters((req.query as Query).filters);
    for (const key of filters.keys()) {
      if (!FILTER_KEYS.includes(key)) throw new InvalidParameterError(`Invalid filter '${key}'`);
    }
    const dangling = filters.get('dangling');
    filters.delete('dangling');
    const result = await volumes.list(filters);
    // No containers use volumes in berth: every volume is dangling.
    return dangling && !dangling.some((d) => queryBool(d))
      ? { Volumes: [], Warnings: result.Warnings }
      : result;
  });

  app.post('/volumes/create', async (req, reply) =>
    reply.code(201).send(await volumes.create(createRequest(req.body ?? {}))),
  );

  app.post('/volumes/prune', async () => volumes.prune());

  app.get('/volumes/:name', async (req) => volumes.inspect(req.params.name ?? ''));

  app.delete('/volumes/:name', async (req, reply) => {
    await volumes.remove(req.params.name ?? '', { force: queryBool((req.query as Query).force) });
    return reply.code(204).send();
  });
}
