/**
 * Plugin names as Docker reads them (distribution's reference grammar, familiar form): `vol` → `vol:latest`,
 * `docker.io/library/vol` → `vol:latest`, `localhost:5000/x/y:1` kept. Unlike dockerd, a malformed name is a
 * 400 that says what is wrong, and a name is never silently read as an id prefix when it is not hex.
 *
 * @module
 */
import { InvalidParameterError } from '../../errdefs/index.ts';
import { familiarRepository, parseRemoteReference } from '../../registry/index.ts';

/** `name[:tag]` split, tag defaulted to `latest`. */
export interface PluginReference {
  /** Familiar repository name (no `docker.io/`, no `library/`). */
  readonly repository: string;
  readonly tag: string;
}

/**
 * Parses and normalises a plugin name.
 * @throws {InvalidParameterError} for digests ("canonical references are not permitted"), upper case, bad
 *   characters or an over-long name
 */
export function parseReference(name: string): PluginReference {
  if (name.includes('@')) throw new InvalidParameterError('canonical references are not permitted');
  const ref = parseRemoteReference(name);
  return { repository: familiarRepository(ref), tag: ref.tag ?? 'latest' };
}

/** The stored form of a plugin name: `repository:tag`. */
export function normalizeName(name: string): string {
  const ref = parseReference(name);
  return `${ref.repository}:${ref.tag}`;
}

/** Whether `text` can only be an id or id prefix (lower-case hex). */
export const isIdPrefix = (text: string): boolean => /^[0-9a-f]{1,64}$/.test(text);
