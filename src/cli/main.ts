import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { BerthError } from '../errdefs/index.ts';
import { registerPlugin } from './commands/plugin.ts';
import { registerPluginBuild } from './commands/plugin-build.ts';
import { registerPluginRegistry } from './commands/plugin-registry.ts';
import { registerPluginSpec } from './commands/plugin-spec.ts';
import { registerRun } from './commands/run.ts';
import { registerRuntime } from './commands/runtime.ts';
import { registerSystem } from './commands/system.ts';
import { registerVolume } from './commands/volume.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The `berth` command tree. */
export function buildProgram(): Command {
  const program = new Command('berth')
    .description('berth: managed plugins and OCI runtimes, Docker Engine API compatible')
    .version(version, '-v, --version')
    .exitOverride()
    // Global options go before the command (as docker's -H); lets `run` pass everything after the command on.
    .enablePositionalOptions()
    .option('-H, --host <unix://path>', 'berthd socket (default $BERTH_HOST or unix:///run/berth/berth.sock)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const plugin = program.command('plugin').description('manage plugins').exitOverride();
  registerPlugin(plugin);
  registerPluginRegistry(plugin);
  registerPluginSpec(plugin);
  registerPluginBuild(plugin);
  registerRuntime(program);
  registerRun(program);
  registerSystem(program);
  registerVolume(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. Errors are one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const message =
      err instanceof BerthError ? err.message : `unexpected error: ${String((err as Error)?.stack ?? err)}`;
    process.stderr.write(`berth: ${message}\n`);
    return 1;
  }
}
