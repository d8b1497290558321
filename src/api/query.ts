import { InvalidParameterError } from '../errdefs/index.ts';

/** Docker's form booleans: "", 0, no, false, none (any case) are false; anything else is true. */
export function queryBool(value: unknown): boolean {
  if (value === undefined) return false;
  const v = String(value).toLowerCase();
  return !['', '0', 'no', 'false', 'none'].includes(v);
}

/**
 * Docker's `filters` query: `{"key":{"value":true}}` or the legacy `{"key":["value"]}`, as key → values.
 * @throws {InvalidParameterError} for JSON that is neither
 */
export function parseFilters(raw: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (raw === undefined || raw === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch (err) {
    throw new InvalidParameterError(`invalid filters ${String(raw)}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidParameterError(`invalid filters ${String(raw)}: expected {"key": {"value": true}}`);
  }
  for (const [key, values] of Object.entries(parsed)) {
    if (Array.isArray(values)) out.set(key, values.map(String));
    else if (typeof values === 'object' && values !== null) out.set(key, Object.keys(values));
    else throw new InvalidParameterError(`invalid filters: ${key} must map to {"value": true}`);
  }
  return out;
}

/**
 * Parses a query string as Go's `url.Values.Get` reads it (what dockerd's handlers use): a repeated parameter
 * keeps its first value, so `timeout=abc&timeout=5` is `abc`, never the `abc,5` an array would print as.
 */
export function parseQueryString(query: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(query)) if (!(key in out)) out[key] = value;
  return out;
}
