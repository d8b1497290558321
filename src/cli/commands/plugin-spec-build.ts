/** The work of `berth plugin spec`, loaded only when that command runs (it pulls in ajv and the spec engine). */

import { InvalidParameterError, SystemError } from '../../errdefs/index.ts';
import { canonicalKeys, describeUnknownKey, type UnknownKey } from '../../gojson/index.ts';
import { type Spec, validateSpec } from '../../oci/index.ts';
import { buildPluginSpec, decodePlugin } from '../../plugins/index.ts';
import { USAGE } from './plugin-spec-usage.ts';

/** The envelope's fields, matched in any case as the Plugin object inside it is. */
const REQUEST_FIELDS = { properties: { rootfs: {}, execRoot: {}, metricsSocket: {}, plugin: {} } };

interface SpecRequest {
  rootfs: string;
  execRoot: string;
  metricsSocket?: string;
  plugin: unknown;
}

function decodeRequest(input: unknown, unknownKeys: UnknownKey[]): SpecRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidParameterError(`input must be a JSON object ${USAGE}`);
  }
  const decoded = canonicalKeys(input, REQUEST_FIELDS, 'input');
  unknownKeys.push(...decoded.unknown);
  const req = decoded.value as Record<string, unknown>;
  for (const key of ['rootfs', 'execRoot'] as const) {
    if (typeof req[key] !== 'string')
      throw new InvalidParameterError(`input.${key} must be a string path: expected ${USAGE}`);
  }
  if (req.metricsSocket !== undefined && typeof req.metricsSocket !== 'string') {
    throw new InvalidParameterError('input.metricsSocket must be a string path');
  }
  if (req.plugin === undefined)
    throw new InvalidParameterError(`input.plugin is required: expected ${USAGE}`);
  return req as unknown as SpecRequest;
}

/**
 * Reads a spec request (keys in any case, as dockerd reads a Plugin object), builds the plugin's spec and checks it
 * against the OCI schema. `warnings` name the keys that were ignored.
 */
export function pluginSpecFromInput(input: unknown): { spec: Spec; warnings: string[] } {
  const unknown: UnknownKey[] = [];
  const req = decodeRequest(input, unknown);
  const plugin = decodePlugin(req.plugin, 'input.plugin', unknown);
  const spec = buildPluginSpec(plugin, {
    rootfs: req.rootfs,
    execRoot: req.execRoot,
    ...(req.metricsSocket === undefined ? {} : { metricsSocket: req.metricsSocket }),
  });
  const issues = validateSpec(spec);
  if (issues.length > 0) {
    const first = issues[0];
    throw new SystemError(
      `the spec built for this plugin does not conform to the OCI schema: ${first?.path} ${first?.message}`,
    );
  }
  return { spec, warnings: unknown.map(describeUnknownKey) };
}
