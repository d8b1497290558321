import type { Command } from 'commander';
import type { RuntimeView } from '../../api/index.ts';
import { clientFor } from '../host.ts';
import { formatTable } from '../table.ts';
import { registerRuntimeExport } from './runtime-export.ts';

interface ReloadAnswer {
  Generation: number;
  DefaultRuntime: string;
  Added: string[];
  Removed: string[];
  Changed: string[];
  DefaultChanged?: { From: string; To: string };
  Runtimes: RuntimeView[];
}

function what(rt: RuntimeView): string {
  if (rt.Kind === 'shim') return rt.RuntimeType ?? '';
  return [rt.Status.ResolvedPath ?? rt.Path ?? '', ...(rt.RuntimeArgs ?? [])].join(' ');
}

/** `berth runtime ls` rows: name (* = default), health, version, binary + args, the containerd shim, reason. */
export function runtimeTable(runtimes: readonly RuntimeView[]): string {
  return formatTable(
    ['NAME', 'KIND', 'HEALTH', 'VERSION', 'COMMAND', 'SHIM', 'REASON'],
    runtimes.map((rt) => [
      `${rt.Name}${rt.Default ? ' *' : ''}`,
      rt.Kind,
      rt.Status.Health,
      rt.Status.Version ?? '',
      what(rt),
      rt.Containerd?.Shim ?? '',
      rt.Status.Reason ?? '',
    ]),
  );
}

/** The reload diff as lines a person reads. */
export function describeReload(r: ReloadAnswer): string {
  const lines = [
    ...r.Added.map((n) => `added: ${n}`),
    ...r.Removed.map((n) => `removed: ${n}`),
    ...r.Changed.map((n) => `changed: ${n}`),
    ...(r.DefaultChanged ? [`default runtime: ${r.DefaultChanged.From} -> ${r.DefaultChanged.To}`] : []),
  ];
  return `${lines.length ? lines.join('\n') : 'no changes'}\n`;
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}

export function registerRuntime(program: Command): void {
  const runtime = program.command('runtime').description('manage OCI runtimes').exitOverride();

  runtime
    .command('ls')
    .alias('list')
    .description('list runtimes with their health (* marks the default)')
    .option('--format <format>', 'table or json', 'table')
    .action(async (o: { format: string }, cmd: Command) => {
      const list = await clientFor(cmd).json<RuntimeView[]>('GET', '/runtimes');
      print(o.format === 'json', list, () => runtimeTable(list));
    });

  runtime
    .command('inspect')
    .description('show everything berth knows about runtimes, as JSON')
    .argument('<name...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const views = await Promise.all(
        names.map((n) => client.json<RuntimeView>('GET', `/runtimes/${encodeURIComponent(n)}`)),
      );
      process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
    });

  runtime
    .command('check')
    .description('probe runtimes again now; exits 1 if a checked runtime is unavailable')
    .argument('[name]')
    .option('--format <format>', 'table or json', 'table')
    .action(async (name: string | undefined, o: { format: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const views = name
        ? [await client.json<RuntimeView>('POST', `/runtimes/${encodeURIComponent(name)}/check`)]
        : await client.json<RuntimeView[]>('POST', '/runtimes/check');
      print(o.format === 'json', views, () => runtimeTable(views));
      if (views.some((v) => v.Status.Health === 'unavailable')) process.exitCode = 1;
    });

  runtime
    .command('reload')
    .description(
      "re-read berthd's configuration file and swap in the new runtimes; waits and prints the diff",
    )
    .option('--format <format>', 'table or json', 'table')
    .action(async (o: { format: string }, cmd: Command) => {
      const answer = await clientFor(cmd).json<ReloadAnswer>('POST', '/runtimes/reload');
      print(o.format === 'json', answer, () => describeReload(answer));
    });

  registerRuntimeExport(runtime);
}
