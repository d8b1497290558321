/**
 * berth's `POST /plugins/{name}/update` (dockerd has no way to change a plugin in place): a JSON object decoded as
 * Go decodes bodies (keys in any case, unknown keys ignored and reported in `Warnings`), every part checked before
 * any applies, answered in Docker's container-update shape `{"Warnings": [...]}`.
 *
 * Two parts: `Resources` (limits; like `set`, refused while enabled unless `restart=true`) and `Health` (the health
 * check; a running plugin takes it at once). With both, they are saved in one state write under the limits' rules.
 *
 * @module
 */
import { InvalidParameterError } from '../../errdefs/index.ts';
import { canonicalKeys, describeUnknownKey, type FieldSchema } from '../../gojson/index.ts';
import { decodeHealthUpdate, decodePluginUpdate, type ReconfigureOptions } from '../../plugins/index.ts';
import type { PluginsPort } from '../ports.ts';

/** The parts of the body, one key each; a part's own fields are decoded (and warned about) by its module. */
const UPDATE_PARTS: FieldSchema = { type: 'object', properties: { Health: {}, Resources: {} } };

const EXAMPLE = '{"Health": {"Interval": 10000000000, "Retries": 3}, "Resources": {"Memory": 268435456}}';

export async function updatePlugin(
  plugins: PluginsPort,
  name: string,
  body: unknown,
  o: ReconfigureOptions = {},
): Promise<{ Warnings: string[] }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError(`the body must be a JSON object such as ${EXAMPLE}`);
  }
  const top = canonicalKeys(body, UPDATE_PARTS, 'body');
  const parts = top.value as { Health?: unknown; Resources?: unknown };
  const health = decodeHealthUpdate(parts.Health, 'body.Health');
  const limits = decodePluginUpdate(parts.Resources == null ? {} : { Resources: parts.Resources });
  const warnings = [...top.unknown.map(describeUnknownKey), ...limits.warnings, ...health.warnings];
  if (limits.resources) {
    // Limits and health together are one state write: a refused limit change leaves the health check as it was.
    const withHealth = parts.Health != null ? { health: health.update } : {};
    await plugins.update(name, { resources: limits.resources, ...withHealth, warnings }, o);
  } else {
    // Health alone applies at once, also to a running plugin (also with nothing to change: a 404 when unknown).
    await plugins.updateHealth(name, health.update);
  }
  return { Warnings: warnings };
}
