/**
 * `berth plugin build DIR`: bundle a TypeScript/JavaScript plugin, give it a minimal rootfs and write a plugin
 * directory; `--create` creates it in berthd, `--push` also pushes it to the registry its name names.
 */
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { parseRemoteReference } from '../../registry/index.ts';
import { clientFor } from '../host.ts';
import { contextStream } from './plugin.ts';
import { printProgress, registryAuthHeader } from './plugin-registry.ts';

interface BuildFlags {
  name?: string;
  output?: string;
  entry?: string;
  baseRootfs?: string;
  create?: boolean;
  push?: boolean;
}

/** A push needs a name with a registry domain; say so before building 100 MB. */
function checkPushName(name: string): void {
  const ref = parseRemoteReference(name);
  if (!name.includes('/') || ref.domain === 'docker.io')
    process.stderr.write(
      `note: ${name} will be pushed to Docker Hub; use e.g. localhost:5000/${name} for a local registry\n`,
    );
}

export function registerPluginBuild(plugin: Command): void {
  plugin
    .command('build')
    .description(
      'bundle a TypeScript/JavaScript plugin (DIR/config.json + plugin.ts) with node into OUT/config.json + OUT/rootfs',
    )
    .argument('<dir>', 'holds config.json and the program (plugin.ts, plugin.js, index.ts, … or --entry)')
    .option('--name <name>', 'plugin name for --create/--push (default: the directory name)')
    .option('-o, --output <out>', 'where to write the plugin directory (default DIR/build)')
    .option('--entry <file>', 'the program, relative to DIR')
    .option(
      '--base-rootfs <dir>',
      "copy this rootfs (with node in it) instead of this host's node + libraries",
    )
    .option('--create', 'create the plugin in berthd (like berth plugin create NAME OUT)')
    .option('--push', 'create it, then push it to the registry its name names')
    .action(async (dir: string, o: BuildFlags, cmd: Command) => {
      const { buildPlugin, defaultPluginName } = await import('../build/index.ts');
      if (o.name === '') throw new InvalidParameterError('--name must not be empty');
      const name = o.name ?? defaultPluginName(dir);
      if (o.push) checkPushName(name);
      const built = await buildPlugin(dir, {
        ...(o.output ? { output: o.output } : {}),
        ...(o.entry ? { entry: o.entry } : {}),
        ...(o.baseRootfs ? { baseRootfs: o.baseRootfs } : {}),
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      if (o.create || o.push) {
        const client = clientFor(cmd);
        process.stderr.write(`creating plugin ${name} in berthd\n`);
        await client.json('POST', `/plugins/create?name=${encodeURIComponent(name)}`, {
          upload: {
            stream: contextStream(built.output) as unknown as Readable,
            contentType: 'application/x-tar',
          },
        });
        if (o.push) {
          process.stderr.write(`pushing ${name}\n`);
          const res = await client.stream('POST', `/plugins/${encodeURI(name)}/push`, {
            headers: registryAuthHeader(name),
          });
          await printProgress(res, process.stderr);
        }
      }
      process.stdout.write(`${o.create || o.push ? name : built.output}\n`);
    });
}
