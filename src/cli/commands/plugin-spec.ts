import type { Command } from 'commander';
import { readJsonInput } from '../read-input.ts';
import { USAGE } from './plugin-spec-usage.ts';

export function registerPluginSpec(plugin: Command): void {
  plugin
    .command('spec')
    .summary('print the OCI runtime spec a plugin runs with (no daemon needed)')
    .description(
      `Reads ${USAGE} from FILE or stdin and prints the OCI runtime spec berth would run the plugin with.\n` +
        "The plugin's socket directory <execRoot>/<plugin Id> is created if missing; devices are read from this host.",
    )
    .argument('[file]', 'JSON input file; stdin when omitted or "-"')
    .option('--compact', 'print the spec on one line')
    .action(async (file: string | undefined, opts: { compact?: boolean }) => {
      const { pluginSpecFromInput } = await import('./plugin-spec-build.ts');
      const { spec, warnings } = pluginSpecFromInput(await readJsonInput(file));
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`${JSON.stringify(spec, null, opts.compact ? undefined : 2)}\n`);
    });
}
