/**
 * Request checking for plugin calls. Docker's side decodes with Go's encoding/json, so a plugin should accept what
 * Go would: keys match their field case-insensitively, unknown keys are ignored. What a field must hold is checked
 * here, so a handler receives exactly its typed request or the caller gets a 400 naming the field.
 *
 * @module
 */

/** What a field must hold; a trailing `?` makes it optional (absent or null). */
export type FieldKind =
  | 'string'
  | 'number'
  | 'boolean'
  | 'object'
  | 'map'
  | 'array'
  | 'strings'
  | 'any'
  | `${'string' | 'number' | 'boolean' | 'object' | 'map' | 'array' | 'strings' | 'any'}?`;

export type Fields = Readonly<Record<string, FieldKind>>;

/** A request the plugin cannot decode: answered with 400 and `{"Err": message}`. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function holds(kind: string, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return isObject(v);
    case 'map':
      return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
    case 'array':
      return Array.isArray(v);
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    default:
      return true;
  }
}

const WANTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  map: 'an object of strings',
  array: 'an array',
  strings: 'an array of strings',
  any: 'any value',
};

/**
 * Renames `body`'s keys to the field names of `fields` (case-insensitively, as Go does) and checks their values.
 * @param method for messages, e.g. `VolumeDriver.Create`
 * @throws {RequestError} naming the first field that is missing or holds the wrong kind of value
 */
export function decodeRequest(method: string, body: unknown, fields: Fields): Record<string, unknown> {
  if (!isObject(body)) throw new RequestError(`${method}: the request body must be a JSON object`);
  const byLower = new Map(Object.keys(fields).map((f) => [f.toLowerCase(), f]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const field = byLower.get(key.toLowerCase());
    // Go keeps the last of two keys that differ only in case; so does this.
    if (field) out[field] = value;
  }
  for (const [field, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const kind = optional ? spec.slice(0, -1) : spec;
    const value = out[field];
    if (value === undefined || value === null) {
      if (!optional)
        throw new RequestError(`${method}: ${field} is required (${WANTED[kind]}), e.g. {"${field}": …}`);
      delete out[field];
      continue;
    }
    if (!holds(kind, value))
      throw new RequestError(`${method}: ${field} must be ${WANTED[kind]}, not ${describe(value)}`);
  }
  return out;
}
