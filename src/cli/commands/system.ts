import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { EngineEvent, RuntimeView } from '../../api/index.ts';
import { clientFor } from '../host.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface Info {
  ServerVersion: string;
  Name: string;
  ID: string;
  KernelVersion: string;
  OperatingSystem: string;
  NCPU: number;
  MemTotal: number;
  DockerRootDir: string;
  BerthExecRoot: string;
  DefaultRuntime: string;
  Plugins: { Volume: string[] };
  BerthRuntimes: RuntimeView[];
  Warnings: string[];
}

/** `docker info`-like text. */
export function describeInfo(i: Info): string {
  const lines = [
    `Server Version: ${i.ServerVersion}`,
    `Name: ${i.Name}`,
    `ID: ${i.ID}`,
    `Data Root: ${i.DockerRootDir}`,
    `Exec Root: ${i.BerthExecRoot}`,
    `Kernel Version: ${i.KernelVersion}`,
    `Operating System: ${i.OperatingSystem}`,
    `CPUs: ${i.NCPU}`,
    `Total Memory: ${(i.MemTotal / 2 ** 30).toFixed(1)} GiB`,
    `Volume Plugins: ${i.Plugins.Volume.join(' ') || '(none)'}`,
    `Default Runtime: ${i.DefaultRuntime}`,
    'Runtimes:',
    ...i.BerthRuntimes.map(
      (r) => `  ${r.Name}: ${r.Status.Health}${r.Status.Reason ? ` (${r.Status.Reason})` : ''}`,
    ),
    ...i.Warnings,
  ];
  return `${lines.join('\n')}\n`;
}

/** `-f type=plugin -f event=enable` → Docker's filters query value. */
function filtersJson(filters: readonly string[]): string {
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of filters) {
    const at = f.indexOf('=');
    const key = at > 0 ? f.slice(0, at) : f;
    out[key] = { ...out[key], [at > 0 ? f.slice(at + 1) : '']: true };
  }
  return JSON.stringify(out);
}

export function registerSystem(program: Command): void {
  program
    .command('info')
    .description('show berthd facts, volume plugins and runtime health')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o: { format: string }, cmd: Command) => {
      const info = await clientFor(cmd).json<Info>('GET', '/info');
      process.stdout.write(o.format === 'json' ? `${JSON.stringify(info, null, 2)}\n` : describeInfo(info));
    });

  program
    .command('version')
    .description("show berth's and berthd's versions and the API versions berthd serves")
    .action(async (_o: unknown, cmd: Command) => {
      process.stdout.write(`Client: berth ${cmd.parent?.version() ?? ''}\n`);
      const v = await clientFor(cmd).json<{
        Version: string;
        ApiVersion: string;
        MinAPIVersion: string;
        KernelVersion: string;
      }>('GET', '/version');
      process.stdout.write(
        `Server: berthd ${v.Version}\n API version: ${v.ApiVersion} (minimum ${v.MinAPIVersion})\n Kernel: ${v.KernelVersion}\n`,
      );
    });

  program
    .command('events')
    .description('stream events (plugin create/enable/disable/remove/crash/restart/failed, daemon reload)')
    .option('--since <unix-seconds>', 'also show events from this time on')
    .option('--until <unix-seconds>', 'stop at this time')
    .option(
      '-f, --filter <key=value>',
      'type=plugin|daemon, event=ACTION, plugin=NAME (repeatable)',
      collect,
      [],
    )
    .option('--format <format>', 'text or json', 'text')
    .action(async (o: { since?: string; until?: string; filter: string[]; format: string }, cmd: Command) => {
      const q = new URLSearchParams();
      if (o.since) q.set('since', o.since);
      if (o.until) q.set('until', o.until);
      if (o.filter.length) q.set('filters', filtersJson(o.filter));
      const res = await clientFor(cmd).stream('GET', `/events${q.size ? `?${q}` : ''}`);
      for await (const line of createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })) {
        if (line === '') continue;
        const e = JSON.parse(line) as EngineEvent;
        if (o.format === 'json') process.stdout.write(`${line}\n`);
        else {
          const attrs = Object.entries(e.Actor.Attributes)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ');
          process.stdout.write(
            `${new Date(e.timeNano / 1e6).toISOString()} ${e.Type} ${e.Action} ${e.Actor.ID} (${attrs})\n`,
          );
        }
      }
    });
}
