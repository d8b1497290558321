/**
 * Plugin names as Docker reads them (distribution's reference grammar, familiar form): `vol` → `vol:latest`,
 * `docker.io/library/vol` → `vol:latest`, `localhost:5000/x/y:1` kept. Unlike dockerd, a malformed name is a
 * 400 that says what is wrong, and a name is never silently read as an id prefix when it is not hex.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$/;
const MAX_NAME = 255;

/** `name[:tag]` split, tag defaulted to `latest`. */
export interface PluginReference {
  /** Familiar repository name (no `docker.io/`, no `library/`). */
  readonly repository: string;
  readonly tag: string;
}

function bad(name: string, why: string): InvalidParameterError {
  return new InvalidParameterError(
    `invalid reference format for plugin name ${JSON.stringify(name)}: ${why}`,
  );
}

/**
 * Parses and normalises a plugin name.
 * @throws {InvalidParameterError} for digests ("canonical references are not permitted"), upper case, bad
 *   characters or an over-long name
 */
export function parseReference(name: string): PluginReference {
  if (name === '') throw bad(name, 'it is empty');
  if (name.includes('@')) throw new InvalidParameterError('canonical references are not permitted');
  let rest = name;
  let tag = 'latest';
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw bad(name, `tag "${tag}" must be 1-128 of letters, digits, "_", "." and "-"`);
  }
  let parts = rest.split('/');
  const first = parts[0] ?? '';
  let domain: string | undefined;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!DOMAIN.test(first)) throw bad(name, `registry "${first}" is not a host name`);
    domain = first;
    parts = parts.slice(1);
  }
  if (rest !== rest.toLowerCase() && parts.join('/') !== parts.join('/').toLowerCase()) {
    throw bad(name, `repository name (${parts.join('/')}) must be lowercase`);
  }
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw bad(
        name,
        `path component "${part}" must be lowercase letters and digits separated by ".", "_", "__" or "-"`,
      );
    }
  }
  if (domain === 'docker.io' || domain === 'index.docker.io') {
    domain = undefined;
    if (parts.length === 2 && parts[0] === 'library') parts = parts.slice(1);
  }
  const repository = [...(domain ? [domain] : []), ...parts].join('/');
  if (repository.length > MAX_NAME) throw bad(name, `repository name is longer than ${MAX_NAME} characters`);
  return { repository, tag };
}

/** The stored form of a plugin name: `repository:tag`. */
export function normalizeName(name: string): string {
  const ref = parseReference(name);
  return `${ref.repository}:${ref.tag}`;
}

/** Whether `text` can only be an id or id prefix (lower-case hex). */
export const isIdPrefix = (text: string): boolean => /^[0-9a-f]{1,64}$/.test(text);
