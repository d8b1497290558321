import type { Command } from 'commander';
import { BerthClient, DEFAULT_HOST } from '../client/index.ts';

/** The client for the daemon named by `-H`, else `BERTH_HOST`, else the default socket. */
export function clientFor(cmd: Command): BerthClient {
  const { host } = cmd.optsWithGlobals<{ host?: string }>();
  return new BerthClient(host ?? process.env.BERTH_HOST ?? DEFAULT_HOST);
}
