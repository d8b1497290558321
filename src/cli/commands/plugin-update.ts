import type { Command } from 'commander';
import { clientFor } from '../host.ts';

const path = (name: string, action: string) => `/plugins/${encodeURI(name)}/${action}`;

/** `berth plugin update`: berth's per-plugin resource limits (dockerd has none for plugins). */
export function registerPluginUpdate(plugin: Command): void {
  plugin
    .command('update')
    .description(
      "change a plugin's resource limits (0 removes a limit); refused while enabled unless --restart",
    )
    .argument('<name>')
    .option('-m, --memory <bytes>', 'memory limit, e.g. 256m or 1g (at least 6m)')
    .option(
      '--memory-swap <bytes>',
      'memory plus swap, e.g. 512m; -1 for unlimited swap (default: 2 × memory)',
    )
    .option('--cpus <number>', 'number of CPUs, e.g. 0.5 (a CFS quota over a 100 ms period)')
    .option('-c, --cpu-shares <number>', 'CPU shares, relative weight (default 1024)')
    .option('--pids-limit <number>', 'maximum number of processes and threads; -1 for unlimited')
    .option('--restart', 'apply to an enabled plugin and restart it (rolled back if the restart fails)')
    .option('-f, --force', 'with --restart: restart even while the plugin is in use')
    .action(async (name: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { reconfigureQuery, resourcesFromFlags } = await import('./plugin-update-flags.ts');
      const body = { Resources: resourcesFromFlags(o) };
      const answer = await clientFor(cmd).json<{ Warnings?: string[] | null }>(
        'POST',
        `${path(name, 'update')}${reconfigureQuery(o)}`,
        { body },
      );
      for (const w of answer?.Warnings ?? []) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`${name}\n`);
    });
}
