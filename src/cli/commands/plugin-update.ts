/**
 * `berth plugin update [flags] NAME`: changes a plugin in place through `POST /plugins/{name}/update`. Each
 * concern brings its flags and its part of the body: resource limits (plugin-update-flags.ts; refused while
 * enabled unless --restart) and the health check (plugin-update-health.ts; applies at once, also while it runs).
 *
 * @module
 */
import type { Command } from 'commander';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { clientFor } from '../host.ts';
import type { ResourceFlags } from './plugin-update-flags.ts';
import { addHealthOptions, type HealthFlags, healthBody } from './plugin-update-health.ts';

type UpdateFlags = HealthFlags & ResourceFlags & { readonly restart?: boolean; readonly force?: boolean };

function addResourceOptions(command: Command): Command {
  return command
    .option('-m, --memory <bytes>', 'memory limit, e.g. 256m or 1g (at least 6m; 0 removes the limit)')
    .option(
      '--memory-swap <bytes>',
      'memory plus swap, e.g. 512m; -1 for unlimited swap (default: 2 × memory)',
    )
    .option('--cpus <number>', 'number of CPUs, e.g. 0.5 (a CFS quota over a 100 ms period)')
    .option('-c, --cpu-shares <number>', 'CPU shares, relative weight (default 1024)')
    .option('--pids-limit <number>', 'maximum number of processes and threads; -1 for unlimited')
    .option(
      '--restart',
      'limits: apply to an enabled plugin and restart it (rolled back if the restart fails)',
    )
    .option('-f, --force', 'with --restart: restart even while the plugin is in use');
}

export function registerPluginUpdate(plugin: Command): void {
  const command = plugin
    .command('update')
    .description(
      'change a plugin in place: resource limits (refused while enabled unless --restart) and its health check (applies at once)',
    )
    .argument('<name>');
  addHealthOptions(addResourceOptions(command)).action(async (name: string, o: UpdateFlags, cmd: Command) => {
    const { reconfigureQuery, resourcesFromFlags } = await import('./plugin-update-flags.ts');
    const resources = resourcesFromFlags(o);
    const health = healthBody(o);
    const body = {
      ...(Object.keys(resources).length ? { Resources: resources } : {}),
      ...(health ? { Health: health } : {}),
    };
    if (!Object.keys(body).length)
      throw new InvalidParameterError('nothing to update: give at least one flag (see --help)');
    const answer = await clientFor(cmd).json<{ Warnings?: string[] | null }>(
      'POST',
      `/plugins/${encodeURI(name)}/update${reconfigureQuery(o)}`,
      { body },
    );
    for (const w of answer?.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    process.stdout.write(`${name}\n`);
  });
}
