import type { Command } from 'commander';
import {
  type ConfigureReport,
  configureContainerd,
  configureCrio,
  containerdLayout,
  EXPORT_FORMATS,
  parseExportFormat,
} from '../../cluster/index.ts';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { writeFileAtomicSync } from '../../host/index.ts';
import { clientFor } from '../host.ts';

/** `GET /runtimes/export`'s answer. */
export interface ExportAnswer {
  Format: string;
  Content: string;
  Handlers: { Name: string; Handler: string }[];
  LeftOut: { Name: string; Reason: string }[];
  DefaultHandler?: string;
}

function fetchExport(cmd: Command, format: string, includeUnavailable: boolean): Promise<ExportAnswer> {
  const query = new URLSearchParams({ format, ...(includeUnavailable ? { includeUnavailable: '1' } : {}) });
  return clientFor(cmd).json<ExportAnswer>('GET', `/runtimes/export?${query}`);
}

/** The report a person reads on stderr: what was exported under which handler, and what was left out. */
export function describeExport(a: ExportAnswer): string {
  const handlers = a.Handlers.map((h) => (h.Name === h.Handler ? h.Name : `${h.Name} as ${h.Handler}`));
  return [
    `exported: ${handlers.length ? handlers.join(', ') : 'nothing'}`,
    ...(a.DefaultHandler ? [`default: ${a.DefaultHandler}`] : []),
    ...a.LeftOut.map((l) => `left out: ${l.Name}: ${l.Reason}`),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** What `configure` did, then the command that makes the CRI read it. */
export function describeConfigure(r: ConfigureReport): string {
  const lines = [r.dropinChanged ? `wrote ${r.dropin}` : `${r.dropin} is up to date`];
  if (r.config)
    lines.push(
      r.configChanged
        ? `added ${r.dropin} to the imports of ${r.config} (previous version kept in ${r.backup})`
        : `${r.config} already imports ${r.dropin}`,
    );
  if (r.dropinChanged || r.configChanged) lines.push(`to apply: ${r.restart}`);
  return lines.map((l) => `${l}\n`).join('');
}

interface ConfigureOptions {
  containerdConfig?: string;
  dropin?: string;
  crioDropin?: string;
  includeUnavailable?: boolean;
}

async function configure(o: ConfigureOptions, cmd: Command): Promise<void> {
  if (Boolean(o.containerdConfig) === Boolean(o.crioDropin))
    throw new InvalidParameterError('give exactly one of --containerd-config FILE or --crio-dropin DIR');
  if (o.dropin && !o.containerdConfig)
    throw new InvalidParameterError('--dropin goes with --containerd-config');
  const unavailable = o.includeUnavailable === true;
  let answer: ExportAnswer;
  let report: ConfigureReport;
  if (o.containerdConfig) {
    const layout = containerdLayout({
      config: o.containerdConfig,
      ...(o.dropin ? { dropin: o.dropin } : {}),
    });
    answer = await fetchExport(cmd, layout.version === 3 ? 'containerd-v3' : 'containerd', unavailable);
    report = configureContainerd(layout, answer.Content);
  } else {
    answer = await fetchExport(cmd, 'crio', unavailable);
    report = configureCrio(o.crioDropin as string, answer.Content);
  }
  process.stderr.write(describeExport(answer));
  process.stdout.write(describeConfigure(report));
}

/** `berth runtime export` and `berth runtime configure`. */
export function registerRuntimeExport(runtime: Command): void {
  runtime
    .command('export')
    .description('print the runtimes as CRI configuration, RuntimeClasses or node labels (report on stderr)')
    .requiredOption('--format <format>', EXPORT_FORMATS.join(', '))
    .option('-o, --output <file>', 'write to FILE (atomically) instead of stdout')
    .option('--include-unavailable', 'keep runtimes whose probe found them unusable')
    .action(async (o: { format: string; output?: string; includeUnavailable?: boolean }, cmd: Command) => {
      const answer = await fetchExport(cmd, parseExportFormat(o.format), o.includeUnavailable === true);
      if (o.output) writeFileAtomicSync(o.output, answer.Content);
      else process.stdout.write(answer.Content);
      process.stderr.write(describeExport(answer));
    });

  runtime
    .command('configure')
    .description("write the runtimes into this node's containerd or CRI-O configuration (idempotent)")
    .option('--containerd-config <file>', "containerd's main config: writes the drop-in and imports it once")
    .option('--dropin <file>', 'the drop-in to own (default <dir of the config>/conf.d/berth.toml)')
    .option('--crio-dropin <dir>', "CRI-O's drop-in directory: writes <dir>/90-berth.conf")
    .option('--include-unavailable', 'keep runtimes whose probe found them unusable')
    .action(configure);
}
