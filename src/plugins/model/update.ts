/**
 * The body of berth's `POST /plugins/{name}/update`, decoded as dockerd decodes request bodies (Go's
 * `encoding/json`: keys in any case, unknown keys ignored and reported, `null` as the zero value). Each concept
 * owns one top-level key and its own schema; this module only assembles them.
 *
 * @module
 */
import { describeUnknownKey, type UnknownKey } from '../../gojson/index.ts';
import { decodeWithSchema, validators } from './decode.ts';
import type { HealthConfig } from './health-config.ts';
import { PluginUpdateSchemaJson as PluginUpdateSchema } from './plugin-schema.generated.ts';
import type { PluginResources } from './resources-schema.ts';

export interface PluginUpdate {
  /** Limits to change (absent: limits unchanged). */
  readonly resources?: PluginResources;
  /** Health check settings to change along with them, in the same state write (absent: unchanged). */
  readonly health?: HealthConfig;
  /** Keys Go would ignore, worded for a warning. */
  readonly warnings: string[];
}

/** @throws {InvalidParameterError} naming the first bad field (`body.Resources.Memory must be integer`) */
export function decodePluginUpdate(body: unknown): PluginUpdate {
  const unknown: UnknownKey[] = [];
  const input = body === undefined || body === null || body === '' ? {} : body;
  const decoded = decodeWithSchema(PluginUpdateSchema, validators.validateUpdate, input, 'body', unknown) as {
    Resources?: PluginResources | null;
  };
  const warnings = unknown.map(describeUnknownKey);
  return decoded.Resources ? { resources: decoded.Resources, warnings } : { warnings };
}
