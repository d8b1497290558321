/**
 * `berth plugin update [flags] NAME`: changes a plugin in place through `POST /plugins/{name}/update`. Each
 * concern brings its flags and its part of the body (health: plugin-update-health.ts).
 *
 * @module
 */
import type { Command } from 'commander';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { clientFor } from '../host.ts';
import { addHealthOptions, type HealthFlags, healthBody } from './plugin-update-health.ts';

export function registerPluginUpdate(plugin: Command): void {
  const command = plugin
    .command('update')
    .description('change a plugin in place (health check settings apply at once, also while it runs)')
    .argument('<name>');
  addHealthOptions(command).action(async (name: string, o: HealthFlags, cmd: Command) => {
    const health = healthBody(o);
    if (!health) throw new InvalidParameterError('nothing to update: give at least one flag (see --help)');
    const answer = await clientFor(cmd).json<{ Warnings?: string[] }>(
      'POST',
      `/plugins/${encodeURI(name)}/update`,
      { body: { Health: health } },
    );
    for (const w of answer?.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    process.stdout.write(`${name}\n`);
  });
}
