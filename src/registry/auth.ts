/**
 * Registry credentials and challenges: the `X-Registry-Auth` header a Docker client sends (base64url JSON
 * AuthConfig), and the `WWW-Authenticate` challenges a registry answers 401 with (Basic, or Bearer with a
 * token service, as in the distribution token spec).
 *
 * @module
 */

import { canonicalKeys, type FieldSchema } from '../gojson/index.ts';

/** Docker's AuthConfig, as the client encodes it. */
export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  /** base64 of `user:password` (docker config files). */
  readonly auth?: string;
  /** An OAuth refresh token from `docker login`. */
  readonly identitytoken?: string;
  /** A bearer token to present as is. */
  readonly registrytoken?: string;
  readonly serveraddress?: string;
}

/** One `WWW-Authenticate` challenge. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Decodes `X-Registry-Auth`. Like dockerd, a value that is not base64 JSON is ignored (anonymous access), so a
 * client with no stored login still works; the returned object holds only the string fields.
 */
export function decodeRegistryAuth(header: string | undefined): RegistryAuth | undefined {
  if (!header) return undefined;
  try {
    return registryAuthFrom(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')));
  } catch {
    return undefined;
  }
}

const AUTH_KEYS = ['username', 'password', 'auth', 'identitytoken', 'registrytoken', 'serveraddress'];
/** Docker's AuthConfig as Go decodes it: `"Username"`, `"ServerAddress"`… match too. */
const AUTH_FIELDS: FieldSchema = {
  properties: Object.fromEntries([...AUTH_KEYS, 'email'].map((k) => [k, {}])),
};

/** The AuthConfig fields of a JSON object (the body of `POST /auth`), `auth` split into user and password. */
export function registryAuthFrom(raw: unknown): RegistryAuth | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = canonicalKeys(raw, AUTH_FIELDS, 'auth').value as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const key of AUTH_KEYS) {
    const v = str(o[key]);
    if (v) out[key] = v;
  }
  const decoded = out.auth ? Buffer.from(out.auth, 'base64').toString('utf8') : '';
  if (!out.username && decoded.includes(':')) {
    out.username = decoded.slice(0, decoded.indexOf(':'));
    out.password = decoded.slice(decoded.indexOf(':') + 1);
  }
  return Object.keys(out).length ? out : undefined;
}

/** Encodes an AuthConfig the way the docker CLI does (for tests and berth's own CLI). */
export const encodeRegistryAuth = (auth: RegistryAuth): string =>
  Buffer.from(JSON.stringify(auth)).toString('base64url');

/** Parses `WWW-Authenticate` values: `Bearer realm="…",service="…",scope="…"`, `Basic realm="…"`. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    const scheme = /^\s*([A-Za-z]+)\s*/.exec(value);
    if (!scheme?.[1]) continue;
    const params: Record<string, string> = {};
    for (const m of value
      .slice(scheme[0].length)
      .matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[(m[1] ?? '').toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
    }
    out.push({ scheme: scheme[1].toLowerCase(), params });
  }
  return out;
}

/** `Basic …` for a username and password, if the auth has them. */
export function basicAuthorization(auth: RegistryAuth | undefined): string | undefined {
  if (!auth?.username || auth.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}
