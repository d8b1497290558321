import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Command } from 'commander';
import * as tar from 'tar';
import { InvalidParameterError } from '../../errdefs/index.ts';
import type { Plugin, PluginStatus } from '../../plugins/index.ts';
import { clientFor } from '../host.ts';
import { formatTable } from '../table.ts';
import { registerPluginUpdate } from './plugin-update.ts';

type PluginView = Plugin & { Status?: PluginStatus };
const collect = (value: string, previous: string[] = []) => [...previous, value];
const path = (name: string, action = '') => `/plugins/${encodeURI(name)}${action ? `/${action}` : ''}`;

/** `-f enabled=true -f capability=volumedriver` → Docker's filters JSON. */
export function filtersQuery(filters: readonly string[]): string {
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of filters) {
    const at = f.indexOf('=');
    if (at <= 0)
      throw new InvalidParameterError(
        `bad filter "${f}": use key=value, e.g. enabled=true or capability=volumedriver`,
      );
    const key = f.slice(0, at);
    out[key] = { ...out[key], [f.slice(at + 1)]: true };
  }
  return Object.keys(out).length ? `?filters=${encodeURIComponent(JSON.stringify(out))}` : '';
}

/** `docker plugin ls` table plus berth's live state. */
export function pluginTable(list: readonly PluginView[], noTrunc = false): string {
  const cut = (s: string, n: number) => (noTrunc || s.length <= n ? s : `${s.slice(0, n - 1)}…`);
  return formatTable(
    ['ID', 'NAME', 'DESCRIPTION', 'ENABLED', 'STATE', 'HEALTH'],
    list.map((p) => [
      noTrunc ? p.Id : p.Id.slice(0, 12),
      p.Name,
      cut(p.Config.Description, 45),
      String(p.Enabled),
      p.Status?.State ?? '',
      healthColumn(p.Status),
    ]),
  );
}

/** `healthy`, `starting`, `unhealthy` while it runs; `none` with the health check off; empty otherwise. */
function healthColumn(status: PluginStatus | undefined): string {
  if (status?.Health) return status.Health.Status;
  return status?.Healthcheck?.Disable ? 'none' : '';
}

/** Tars a plugin directory for upload after the checks the docker CLI makes, reporting progress on a TTY. */
export function contextStream(dir: string): NodeJS.ReadableStream {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new InvalidParameterError(`${dir} is not a directory`);
  try {
    JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  } catch (err) {
    throw new InvalidParameterError(`${join(dir, 'config.json')}: ${(err as Error).message}`);
  }
  let sent = 0;
  let last = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      if (process.stderr.isTTY && sent - last > 4 << 20) {
        last = sent;
        process.stderr.write(`\ruploading plugin context: ${(sent / 2 ** 20).toFixed(0)} MiB`);
      }
      done(null, chunk);
    },
    flush(done) {
      if (process.stderr.isTTY && last > 0)
        process.stderr.write(`\ruploading plugin context: ${(sent / 2 ** 20).toFixed(0)} MiB, done\n`);
      done();
    },
  });
  return tar.c({ cwd: dir }, ['.']).pipe(progress);
}

/** Runs `act` for each name, printing the names that worked and the errors, like docker plugin rm. */
async function eachName(names: string[], act: (name: string) => Promise<unknown>): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      await act(name);
      process.stdout.write(`${name}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(`berth: ${(err as Error).message}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

export function registerPlugin(plugin: Command): void {
  plugin
    .command('ls')
    .alias('list')
    .description('list plugins')
    .option('-f, --filter <key=value>', 'enabled=true|false, capability=NAME (repeatable)', collect, [])
    .option('--format <format>', 'table or json', 'table')
    .option('--no-trunc', 'do not truncate ids and descriptions')
    .action(async (o: { filter: string[]; format: string; trunc: boolean }, cmd: Command) => {
      const list = await clientFor(cmd).json<PluginView[]>('GET', `/plugins${filtersQuery(o.filter)}`);
      process.stdout.write(
        o.format === 'json' ? `${JSON.stringify(list, null, 2)}\n` : pluginTable(list, !o.trunc),
      );
    });

  plugin
    .command('create')
    .description('create a plugin from a directory holding config.json and rootfs/')
    .argument('<name>')
    .argument('<dir>')
    .option('--runtime <name>', 'run this plugin with a configured runtime instead of the default')
    .action(async (name: string, dir: string, o: { runtime?: string }, cmd: Command) => {
      const query = `?name=${encodeURIComponent(name)}${o.runtime ? `&runtime=${encodeURIComponent(o.runtime)}` : ''}`;
      const stream = contextStream(dir) as unknown as import('node:stream').Readable;
      await clientFor(cmd).json('POST', `/plugins/create${query}`, {
        upload: { stream, contentType: 'application/x-tar' },
      });
      process.stdout.write(`${name}\n`);
    });

  plugin
    .command('inspect')
    .description("show plugins as JSON: Docker's Plugin object plus berth's Status")
    .argument('<name...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const views = await Promise.all(names.map((n) => client.json<PluginView>('GET', path(n, 'json'))));
      process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
    });

  plugin
    .command('enable')
    .description('start a plugin and wait until it listens')
    .argument('<name>')
    .option('--timeout <seconds>', 'how long to wait for its socket (default 10)')
    .action(async (name: string, o: { timeout?: string }, cmd: Command) => {
      const q = o.timeout ? `?timeout=${encodeURIComponent(o.timeout)}` : '';
      await clientFor(cmd).json('POST', `${path(name, 'enable')}${q}`);
      process.stdout.write(`${name}\n`);
    });

  plugin
    .command('disable')
    .description('stop a plugin (SIGTERM, then SIGKILL after 10 s)')
    .argument('<name>')
    .option('-f, --force', 'even if it is in use')
    .action(async (name: string, o: { force?: boolean }, cmd: Command) => {
      await clientFor(cmd).json('POST', `${path(name, 'disable')}${o.force ? '?force=1' : ''}`);
      process.stdout.write(`${name}\n`);
    });

  plugin
    .command('set')
    .description(
      'change settings: NAME[.FIELD]=VALUE ... (all or none apply; args=["a b","c"] takes a JSON array)',
    )
    .argument('<name>')
    .argument('<settings...>')
    .option('--restart', 'also on an enabled plugin: apply, restart it, roll back if the restart fails')
    .option('-f, --force', 'with --restart: restart even while the plugin is in use')
    .action(async (name: string, settings: string[], o: { restart?: boolean; force?: boolean }, cmd) => {
      const q = [...(o.restart ? ['restart=1'] : []), ...(o.force ? ['force=1'] : [])].join('&');
      await clientFor(cmd).json('POST', `${path(name, 'set')}${q ? `?${q}` : ''}`, { body: settings });
    });

  registerPluginUpdate(plugin);

  plugin
    .command('rm')
    .alias('remove')
    .description('remove plugins')
    .argument('<name...>')
    .option('-f, --force', 'stop them first if enabled')
    .action(async (names: string[], o: { force?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      await eachName(names, (n) => client.json('DELETE', `${path(n)}${o.force ? '?force=1' : ''}`));
    });

  plugin
    .command('logs')
    .description("print a plugin's stdout and stderr (kept up to 2 MiB)")
    .argument('<name>')
    .option('-f, --follow', 'keep printing new output')
    .action(async (name: string, o: { follow?: boolean }, cmd: Command) => {
      const res = await clientFor(cmd).stream('GET', `${path(name, 'logs')}${o.follow ? '?follow=1' : ''}`);
      for await (const chunk of res) process.stdout.write(chunk as Buffer);
    });
}
