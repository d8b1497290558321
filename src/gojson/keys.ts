/**
 * Object keys as Go's `encoding/json` matches them to struct fields, which is how dockerd reads plugin manifests,
 * Plugin objects, request bodies and `X-Registry-Auth`: an exact match wins, otherwise a key matches a field
 * case-insensitively; keys that match no field are ignored; `null` for a field that cannot hold it leaves the
 * zero value. Published plugins and SDKs rely on this (Docker's own documentation writes manifests in lower case).
 *
 * The fields come from a JSON Schema (TypeBox schemas are JSON Schema): `properties` are struct fields,
 * `additionalProperties` a map (keys kept verbatim, as Go keeps map keys), `items` the element of a slice.
 *
 * @module
 */

/** The part of a JSON Schema that describes Go struct fields. */
export interface FieldSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, FieldSchema>>;
  readonly additionalProperties?: boolean | FieldSchema;
  readonly items?: FieldSchema;
  readonly anyOf?: readonly FieldSchema[];
}

/** What canonicalising a value found besides the value itself. */
export interface CanonicalKeys {
  /** The input with every matched key spelt as its field, unknown keys dropped. */
  readonly value: unknown;
  /** Every key that matched no field, in document order. */
  readonly unknown: readonly UnknownKey[];
}

/** A key Go would ignore, with the field it most likely meant. */
export interface UnknownKey {
  /** `root.A.B[0].c` */
  readonly path: string;
  /** A field of the same object within two edits of the key, if any. */
  readonly suggestion?: string;
}

/** `config.json.Interface.sockt: unknown key ignored (did you mean "Socket"?)` */
export function describeUnknownKey(k: UnknownKey): string {
  return `${k.path}: unknown key ignored${k.suggestion ? ` (did you mean "${k.suggestion}"?)` : ''}`;
}

/**
 * Go's case folding of a key for field matching: ASCII letters fold to lower case, and the two non-ASCII letters
 * whose simple fold is an ASCII one (KELVIN SIGN → k, LATIN SMALL LETTER LONG S → s); nothing else folds.
 */
export function foldKey(key: string): string {
  let out = '';
  for (const ch of key) {
    if (ch >= 'A' && ch <= 'Z') out += ch.toLowerCase();
    else if (ch === '\u212a') out += 'k';
    else if (ch === '\u017f') out += 's';
    else out += ch;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function allowsNull(schema: FieldSchema): boolean {
  const t = schema.type;
  if (t === 'null' || (Array.isArray(t) && t.includes('null'))) return true;
  return schema.anyOf?.some(allowsNull) ?? t === undefined;
}

/** The properties of a schema, merged over `anyOf` branches (a nullable object is `anyOf [object, null]`). */
function propertiesOf(schema: FieldSchema): Readonly<Record<string, FieldSchema>> | undefined {
  if (schema.properties) return schema.properties;
  const branches = schema.anyOf?.map(propertiesOf).filter((p) => p !== undefined);
  return branches?.length ? Object.assign({}, ...branches) : undefined;
}

function itemsOf(schema: FieldSchema): FieldSchema | undefined {
  return schema.items ?? schema.anyOf?.map(itemsOf).find((i) => i !== undefined);
}

function mapValuesOf(schema: FieldSchema): FieldSchema | undefined {
  const a = schema.additionalProperties ?? schema.anyOf?.map(mapValuesOf).find((m) => m !== undefined);
  return typeof a === 'object' ? a : undefined;
}

type FieldLookup = (key: string) => string | undefined;
/** Lookups per schema object: schemas are long-lived, and decoding is on the hot path of spec generation. */
const lookups = new WeakMap<object, FieldLookup>();

/** Index of a struct's fields by exact name and by folded name (the first field of a fold wins, as in Go). */
function fieldIndex(properties: Readonly<Record<string, FieldSchema>>): FieldLookup {
  let lookup = lookups.get(properties);
  if (lookup) return lookup;
  const folded = new Map<string, string>();
  for (const name of Object.keys(properties)) if (!folded.has(foldKey(name))) folded.set(foldKey(name), name);
  lookup = (key) => (Object.hasOwn(properties, key) ? key : folded.get(foldKey(key)));
  lookups.set(properties, lookup);
  return lookup;
}

/** A deep copy of JSON data (this layer is pure: no structuredClone). */
function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyJson(v)]));
}

/** Go decodes a repeated field into the value already there: objects merge, anything else is replaced. */
function mergeInto(previous: unknown, next: unknown): unknown {
  if (!isObject(previous) || !isObject(next)) return next;
  const out: Record<string, unknown> = { ...previous };
  for (const [k, v] of Object.entries(next)) out[k] = Object.hasOwn(out, k) ? mergeInto(out[k], v) : v;
  return out;
}

/** Edit distance of two short strings (keys), for suggestions. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

function unknownKey(path: string, key: string, fields: readonly string[]): UnknownKey {
  const folded = foldKey(key);
  const best = fields
    .map((f) => ({ f, d: distance(folded, foldKey(f)) }))
    .filter((c) => c.d <= 2 && c.d < folded.length)
    .sort((a, b) => a.d - b.d)[0];
  return best ? { path: `${path}.${key}`, suggestion: best.f } : { path: `${path}.${key}` };
}

function walk(value: unknown, schema: FieldSchema, path: string, unknown: UnknownKey[]): unknown {
  if (Array.isArray(value)) {
    const items = itemsOf(schema);
    return items ? value.map((v, i) => walk(v, items, `${path}[${i}]`, unknown)) : copyJson(value);
  }
  if (!isObject(value)) return value;
  const properties = propertiesOf(schema);
  if (!properties) {
    const values = mapValuesOf(schema);
    if (!values) return copyJson(value);
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, walk(v, values, `${path}.${k}`, unknown)]),
    );
  }
  const fieldOf = fieldIndex(properties);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = fieldOf(key);
    const fieldSchema = field === undefined ? undefined : properties[field];
    if (field === undefined || fieldSchema === undefined) {
      unknown.push(unknownKey(path, key, Object.keys(properties)));
      continue;
    }
    if (v === null && !allowsNull(fieldSchema)) continue; // Go: null leaves a non-nullable field at its zero value
    const decoded = walk(v, fieldSchema, `${path}.${field}`, unknown);
    out[field] = Object.hasOwn(out, field) ? mergeInto(out[field], decoded) : decoded;
  }
  return out;
}

/**
 * Spells every key of `input` as the schema's field it matches under Go's rules, at every depth, and lists the
 * keys that match none. The input is not modified (the result shares nothing with it). Values are not checked
 * here: validate the result.
 *
 * @example
 * canonicalKeys({ interface: { types: ['docker.volumedriver/1.0'] }, extra: 1 }, PluginConfigSchema, 'config.json')
 * // → { value: { Interface: { Types: [...] } }, unknown: [{ path: 'config.json.extra' }] }
 */
export function canonicalKeys(input: unknown, schema: FieldSchema, root: string): CanonicalKeys {
  const unknown: UnknownKey[] = [];
  const value = walk(input, schema, root, unknown);
  return { value, unknown };
}
