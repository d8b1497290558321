import type { ErrorObject } from 'ajv';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { canonicalKeys, type FieldSchema, type UnknownKey } from '../../gojson/index.ts';
import { PluginSchemaJson as PluginSchema } from './plugin-schema.generated.ts';
import type { Plugin } from './plugin-schema.ts';
import * as generated from './plugin-validators.generated.ts';
import { initialSettings } from './settings.ts';

/** A validator ajv generated ahead of time for one schema (scripts/gen-plugin-schema.ts): fills defaults in. */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** The plugin schemas' validators, generated ahead of time: berthd neither loads ajv nor compiles them. */
export const validators = generated as unknown as {
  readonly validatePlugin: Validator;
  readonly validateConfig: Validator;
  readonly validateUpdate: Validator;
};

/**
 * Decodes `input` as Go's `encoding/json` would decode it into the struct the TypeBox schema describes: keys
 * match fields case-insensitively (exact match first) at every depth and are stored with the field's canonical
 * name; keys that match no field are dropped and added to `unknownKeys`. Then checks the values, filling Go zero
 * values for missing keys with `validate`, the schema's validator. The input is not modified.
 * @throws {InvalidParameterError} naming the first offending field under `root`
 */
export function decodeWithSchema(
  schema: object,
  validate: Validator,
  input: unknown,
  root: string,
  unknownKeys?: UnknownKey[],
): unknown {
  const { value: copy, unknown } = canonicalKeys(input, schema as FieldSchema, root);
  unknownKeys?.push(...unknown);
  if (!validate(copy)) {
    const first = validate.errors?.[0];
    throw new InvalidParameterError(first ? describe(root, first) : `${root} is not valid`);
  }
  return copy;
}

/** `/Config/Mounts/0/Source` → `Config.Mounts[0].Source` */
function fieldName(root: string, pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .reduce(
      (acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : `${acc}.${part.replace(/~1/g, '/')}`),
      root,
    );
}

function describe(root: string, e: ErrorObject): string {
  if (e.keyword === 'required') {
    return `${fieldName(root, e.instancePath)}.${(e.params as { missingProperty: string }).missingProperty} is required`;
  }
  if (e.keyword === 'type') {
    const want = String((e.params as { type: string | string[] }).type).replace(',', ' or ');
    return `${fieldName(root, e.instancePath)} must be ${want}, not ${JSON.stringify(e.data)?.slice(0, 40)}`;
  }
  return `${fieldName(root, e.instancePath)} ${e.message ?? 'is invalid'}`;
}

/**
 * Checks and normalises an Engine API Plugin object (as `docker plugin inspect` prints it), keys in any case as
 * Go reads them. Missing keys take Go's zero values; missing `Settings` are initialised from `Config`. The input is
 * not modified.
 *
 * @param input parsed JSON
 * @param root the name used for the object in error messages
 * @param unknownKeys receives the keys that match no field (Go ignores them)
 * @throws {InvalidParameterError} naming the first offending field, e.g. `plugin.Config.Mounts[0].Source must
 *   be string or null, not 42`
 */
export function decodePlugin(input: unknown, root = 'plugin', unknownKeys?: UnknownKey[]): Plugin {
  const plugin = decodeWithSchema(PluginSchema, validators.validatePlugin, input, root, unknownKeys) as Omit<
    Plugin,
    'Settings'
  > & {
    Settings?: Plugin['Settings'];
  };
  return { ...plugin, Settings: plugin.Settings ?? initialSettings(plugin.Config) };
}
