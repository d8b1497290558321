/**
 * `--metrics-addr` (dockerd's flag): where berthd serves Prometheus metrics over TCP. `HOST:PORT` listens where
 * it says (any address the user writes, `0.0.0.0` included, as dockerd); a bare `:PORT` or `PORT` listens on
 * loopback only — unlike Go's `:PORT`, which means every interface: metrics are never exposed by omission.
 *
 * @module
 */
import { isIP } from 'node:net';
import { InvalidParameterError } from '../errdefs/index.ts';

export interface MetricsAddress {
  /** An IP literal (IPv6 without brackets) or a host name. */
  readonly host: string;
  /** 0 picks a free port (the log line says which). */
  readonly port: number;
}

/** Where a bare port listens. */
export const LOOPBACK = '127.0.0.1';

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** What is wrong with `text` as HOST:PORT, or its parts. */
function split(text: string): { host: string; port: string } | string {
  if (text.includes('://')) return 'give an address, not a URL';
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) {
    if (isIP(bracketed[1] ?? '') !== 6) return `${bracketed[1]} in brackets is not an IPv6 address`;
    return { host: bracketed[1] as string, port: bracketed[2] ?? '' };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return /^\d+$/.test(text) ? { host: '', port: text } : 'it has no :PORT';
  const host = text.slice(0, colon);
  if (host.includes(':')) return 'write an IPv6 address in brackets, like [::1]:9323';
  return { host, port: text.slice(colon + 1) };
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (the last two on loopback).
 * @throws {InvalidParameterError} naming the setting, the value and the expected form
 */
export function parseMetricsAddress(text: string): MetricsAddress {
  const fail = (why: string) =>
    new InvalidParameterError(
      `metrics-addr must be HOST:PORT like 127.0.0.1:9323 (or :PORT for loopback), got ${JSON.stringify(text)}: ${why}`,
    );
  const parts = split(text.trim());
  if (typeof parts === 'string') throw fail(parts);
  const { host, port } = parts;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
    throw fail(`port ${JSON.stringify(port)} is not 0-65535`);
  if (host !== '' && isIP(host) === 0 && !HOSTNAME.test(host))
    throw fail(`${JSON.stringify(host)} is neither an IP address nor a host name`);
  return { host: host === '' ? LOOPBACK : host, port: Number(port) };
}

/** `host:port`, IPv6 in brackets. */
export function formatMetricsAddress(a: MetricsAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
