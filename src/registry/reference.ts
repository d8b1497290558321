/**
 * Image references as distribution reads them: `[domain/]path[:tag][@digest]`, `docker.io` implied, `library/`
 * added to one-component Docker Hub paths. Errors say which part is wrong.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$/;
const MAX_NAME = 255;

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

/** A parsed reference. `path` is the repository inside the registry (`library/x` for Docker Hub's `x`). */
export interface RemoteReference {
  readonly domain: string;
  readonly path: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

function bad(text: string, why: string): InvalidParameterError {
  return new InvalidParameterError(`invalid reference format ${JSON.stringify(text)}: ${why}`);
}

/**
 * Parses a reference without adding a tag.
 * @throws {InvalidParameterError} naming the part that is wrong (upper case, bad characters, tag, digest, length)
 */
export function parseRemoteReference(text: string): RemoteReference {
  if (text === '') throw bad(text, 'it is empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      throw bad(text, `digest "${digest}" must be sha256: and 64 lower-case hex digits`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw bad(text, `tag "${tag}" must be 1-128 of letters, digits, "_", "." and "-"`);
  }
  let parts = rest.split('/');
  const first = parts[0] ?? '';
  let domain = DOCKER_HUB;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!DOMAIN.test(first)) throw bad(text, `registry "${first}" is not a host name`);
    domain = first === 'index.docker.io' ? DOCKER_HUB : first;
    parts = parts.slice(1);
  }
  const path = parts.join('/');
  if (path !== path.toLowerCase()) throw bad(text, `repository name (${path}) must be lowercase`);
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw bad(
        text,
        `path component "${part}" must be lowercase letters and digits separated by ".", "_", "__" or "-"`,
      );
    }
  }
  const full = domain === DOCKER_HUB && parts.length === 1 ? `library/${path}` : path;
  if (`${domain}/${full}`.length > MAX_NAME)
    throw bad(text, `repository name is longer than ${MAX_NAME} characters`);
  return { domain, path: full, tag, digest };
}

/** The short form Docker shows: no `docker.io/`, no `library/`. */
export function familiarRepository(ref: RemoteReference): string {
  if (ref.domain !== DOCKER_HUB) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice(8) : ref.path;
}

/** The fully qualified form (`docker.io/library/x:latest`, `localhost:5000/a/b@sha256:…`). */
export function qualifiedReference(ref: RemoteReference): string {
  return `${ref.domain}/${ref.path}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** A reference with `latest` added when it has neither tag nor digest (what `docker pull` does). */
export function withDefaultTag(ref: RemoteReference): RemoteReference {
  return ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
}

/** The host the registry API answers on. */
export const apiHost = (domain: string): string => (domain === DOCKER_HUB ? DOCKER_HUB_API : domain);
