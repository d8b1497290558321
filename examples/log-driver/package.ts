/**
 * Packages the example log driver (plugin.ts bundled with protobufjs, node in its rootfs) like the volume example:
 *
 *   node --import tsx examples/log-driver/package.ts [OUT_DIR]     (default examples/log-driver/build)
 *
 * @module
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { packageNodePlugin } from '../local-volume/package.ts';

const HERE = new URL('.', import.meta.url).pathname;

export function packageLogDriver(outDir = join(HERE, 'build')): Promise<string> {
  return packageNodePlugin({
    source: join(HERE, 'plugin.ts'),
    manifest: JSON.parse(readFileSync(join(HERE, 'config.json'), 'utf8')),
    outDir,
  });
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(new URL(import.meta.url).pathname)) {
  console.log(await packageLogDriver(process.argv[2]));
}
