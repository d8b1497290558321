import type { Command } from 'commander';
import { InvalidParameterError } from '../../errdefs/index.ts';
import type { Volume } from '../../volumes/index.ts';
import { clientFor } from '../host.ts';
import { formatTable } from '../table.ts';
import { filtersQuery } from './plugin.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `k=v` words → an object (labels, driver options). */
function pairs(words: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const at = w.indexOf('=');
    if (at <= 0) throw new InvalidParameterError(`bad ${what} "${w}": use key=value`);
    out[w.slice(0, at)] = w.slice(at + 1);
  }
  return out;
}

export function registerVolume(program: Command): void {
  const volume = program
    .command('volume')
    .description('manage volumes served by volume-driver plugins')
    .exitOverride();

  volume
    .command('create')
    .description('create a volume with a volume-driver plugin')
    .argument('[name]')
    .requiredOption('-d, --driver <plugin>', 'the volume-driver plugin')
    .option('-o, --opt <key=value>', 'driver option (repeatable)', collect, [])
    .option('--label <key=value>', 'label (repeatable)', collect, [])
    .action(
      async (
        name: string | undefined,
        o: { driver: string; opt: string[]; label: string[] },
        cmd: Command,
      ) => {
        const body = {
          ...(name ? { Name: name } : {}),
          Driver: o.driver,
          DriverOpts: pairs(o.opt, 'option'),
          Labels: pairs(o.label, 'label'),
        };
        const v = await clientFor(cmd).json<Volume>('POST', '/volumes/create', { body });
        process.stdout.write(`${v.Name}\n`);
      },
    );

  volume
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-f, --filter <key=value>', 'name=, driver=, label= (repeatable)', collect, [])
    .option('-q, --quiet', 'names only')
    .option('--format <format>', 'table or json', 'table')
    .action(async (o: { filter: string[]; quiet?: boolean; format: string }, cmd: Command) => {
      const r = await clientFor(cmd).json<{ Volumes: Volume[]; Warnings: string[] | null }>(
        'GET',
        `/volumes${filtersQuery(o.filter)}`,
      );
      for (const w of r.Warnings ?? []) process.stderr.write(`warning: ${w}\n`);
      if (o.format === 'json') process.stdout.write(`${JSON.stringify(r.Volumes, null, 2)}\n`);
      else if (o.quiet) process.stdout.write(r.Volumes.map((v) => `${v.Name}\n`).join(''));
      else
        process.stdout.write(
          formatTable(
            ['DRIVER', 'VOLUME NAME', 'STATUS'],
            r.Volumes.map((v) => [v.Driver, v.Name, String(v.Status?.error ?? '')]),
          ),
        );
    });

  volume
    .command('inspect')
    .description('show volumes as JSON')
    .argument('<name...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const views = await Promise.all(
        names.map((n) => client.json<Volume>('GET', `/volumes/${encodeURIComponent(n)}`)),
      );
      process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
    });

  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes')
    .argument('<name...>')
    .option('-f, --force', 'forget the volume even if its driver fails')
    .action(async (names: string[], o: { force?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      for (const n of names) {
        await client.json('DELETE', `/volumes/${encodeURIComponent(n)}${o.force ? '?force=1' : ''}`);
        process.stdout.write(`${n}\n`);
      }
    });

  volume
    .command('prune')
    .description('remove all volumes (berth runs no containers that could use them)')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await clientFor(cmd).json<{ VolumesDeleted: string[] }>('POST', '/volumes/prune');
      process.stdout.write(r.VolumesDeleted.map((n) => `${n}\n`).join(''));
    });
}
