/**
 * berth's `POST /plugins/{name}/update` (dockerd has no way to change a plugin in place): a JSON object decoded as
 * Go decodes bodies (keys in any case, unknown keys ignored and reported in `Warnings`), every part checked before
 * any applies, answered in Docker's container-update shape `{"Warnings": [...]}`.
 *
 * @module
 */
import { InvalidParameterError } from '../../errdefs/index.ts';
import { canonicalKeys, describeUnknownKey, type FieldSchema } from '../../gojson/index.ts';
import { decodeHealthUpdate } from '../../plugins/index.ts';
import type { PluginsPort } from '../ports.ts';

/** The parts of the body, one key each; a part's own fields are decoded (and warned about) by its module. */
const UPDATE_PARTS: FieldSchema = { type: 'object', properties: { Health: {} } };

const EXAMPLE = '{"Health": {"Interval": 10000000000, "Timeout": 2000000000, "Retries": 3}}';

export async function updatePlugin(
  plugins: PluginsPort,
  name: string,
  body: unknown,
): Promise<{ Warnings: string[] }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError(`the body must be a JSON object such as ${EXAMPLE}`);
  }
  const top = canonicalKeys(body, UPDATE_PARTS, 'body');
  const parts = top.value as { Health?: unknown };
  const health = decodeHealthUpdate(parts.Health, 'Health');
  await plugins.updateHealth(name, health.update);
  return { Warnings: [...top.unknown.map(describeUnknownKey), ...health.warnings] };
}
