/**
 * Which registries may be reached over plain HTTP: like Docker, loopback ones always (`localhost`, 127.0.0.0/8,
 * `::1`), plus `insecure-registries` entries, each a `host[:port]` matched exactly or a CIDR matched against an
 * IP host.
 *
 * @module
 */
import netModule, { type BlockList, isIP } from 'node:net';
import { InvalidParameterError } from '../errdefs/index.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

function hostOf(domain: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(domain);
  if (bracketed?.[1]) return bracketed[1];
  return domain.replace(/:\d+$/, '');
}

// `BlockList` is a lazy getter of node:net, read where it is used (scripts/bundle-berthd.mjs says why).
const newBlockList = (): BlockList => new netModule.BlockList();

function addCidr(list: BlockList, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const family = isIP(net ?? '');
  if (!net || !family || !/^\d+$/.test(bits ?? '')) return false;
  list.addSubnet(net, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return true;
}

/** Problems with `insecure-registries` entries, for config validation. */
export function insecureRegistryProblems(entries: readonly string[]): string[] {
  return entries
    .filter((e) => (e.includes('/') ? !addCidr(newBlockList(), e) : !/^[A-Za-z0-9.\-[\]:]+$/.test(e)))
    .map((e) => `insecure-registries: "${e}" is neither host[:port] nor a CIDR such as 10.0.0.0/8`);
}

/** A predicate over registry domains. @throws {InvalidParameterError} for a malformed entry */
export function insecureRegistries(entries: readonly string[]): (domain: string) => boolean {
  const problems = insecureRegistryProblems(entries);
  if (problems.length) throw new InvalidParameterError(problems.join('; '));
  const cidrs = newBlockList();
  for (const c of [...LOOPBACK, ...entries.filter((e) => e.includes('/'))]) addCidr(cidrs, c);
  const exact = new Set(entries.filter((e) => !e.includes('/')));
  return (domain) => {
    const host = hostOf(domain);
    if (exact.has(domain) || exact.has(host) || host === 'localhost') return true;
    const family = isIP(host);
    return family !== 0 && cidrs.check(host, family === 6 ? 'ipv6' : 'ipv4');
  };
}
