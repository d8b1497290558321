/**
 * Engine API versions berth serves: the current Engine API (Docker 29) down to the oldest dockerd ever accepted.
 * Clients pin their version (the Python SDK defaults to 1.45, Go programs use `client.WithVersion`); the plugin,
 * volume, event and version endpoints have kept their shapes across this range, and `/info` is shaped per version
 * where dockerd shapes it (see `routes/system.ts`).
 */
export const API_VERSION = '1.55';
export const MIN_API_VERSION = '1.12';

function parse(v: string): [number, number] {
  const [major = '0', minor = '0'] = v.split('.');
  return [Number(major), Number(minor)];
}

/** -1, 0, 1 as `a` is older than, equal to or newer than `b`. */
export function compareApiVersions(a: string, b: string): number {
  const [am, an] = parse(a);
  const [bm, bn] = parse(b);
  return Math.sign(am - bm || an - bn);
}

/** Splits `/v1.41/info` into the requested version and the path. */
export function splitVersionPrefix(url: string): { version?: string | undefined; path: string } {
  const m = /^\/v(\d+\.\d+)(?=\/|$)/.exec(url);
  if (!m) return { path: url };
  return { version: m[1], path: url.slice(m[0].length) || '/' };
}

/** The version a request asked for: its `/vX.Y` prefix, or the current one without a prefix. */
export function requestApiVersion(originalUrl: string): string {
  return splitVersionPrefix(originalUrl).version ?? API_VERSION;
}

/** Whether `version` is older than `than`. */
export const olderThan = (version: string, than: string): boolean => compareApiVersions(version, than) < 0;

/** Docker's message for a version outside [MIN, MAX], or undefined when it is served. */
export function unsupportedVersion(version: string): string | undefined {
  if (compareApiVersions(version, API_VERSION) > 0) {
    return `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`;
  }
  if (compareApiVersions(version, MIN_API_VERSION) < 0) {
    return `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`;
  }
  return undefined;
}
