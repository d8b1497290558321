// Enforces berth's import direction (docs/ARCHITECTURE.md): a folder under src/ may import only the folders
// listed for it, and only through their index.ts. Pure layers may not import node:* at all.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const BASE = ['errdefs', 'gojson'];
const ALLOWED = {
  errdefs: [],
  gojson: [],
  oci: [...BASE],
  host: [...BASE, 'oci'],
  registry: [...BASE],
  grpc: [...BASE],
  containerd: [...BASE, 'grpc'],
  executor: [...BASE, 'oci', 'host', 'grpc', 'containerd'],
  runtimes: [...BASE, 'oci', 'host', 'executor'],
  cluster: [...BASE, 'host', 'runtimes'],
  plugins: [...BASE, 'oci', 'host', 'executor', 'runtimes', 'registry'],
  volumes: [...BASE, 'host', 'plugins'],
  logdriver: [...BASE, 'host', 'plugins'],
  api: [...BASE, 'oci', 'host', 'executor', 'runtimes', 'registry', 'plugins', 'volumes', 'cluster'],
  daemon: [
    ...BASE,
    'oci',
    'host',
    'executor',
    'runtimes',
    'registry',
    'plugins',
    'volumes',
    'logdriver',
    'api',
    'cluster',
  ],
  client: [...BASE],
  // The plugin SDK (`berth/plugin`) runs inside plugins: nothing of berth, only node:* and SDK_PACKAGES.
  sdk: [],
  cli: ['.', 'client', ...BASE, 'oci', 'host', 'registry', 'plugins', 'api', 'volumes', 'cluster'],
};
/** Layers another may import only with `import type` (erased at build: no server code in the CLI). */
const TYPE_ONLY = { cli: ['api', 'volumes'] };
const PURE = new Set(['errdefs', 'gojson', 'oci']);
/** npm packages the SDK may import (bundled into every plugin by `berth plugin build`). */
const SDK_PACKAGES = new Set(['protobufjs']);
const src = new URL('../src/', import.meta.url).pathname;

const files = readdirSync(src, { recursive: true }).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
);
const problems = [];
for (const file of files) {
  const layer = file.includes('/') ? file.split('/')[0] : '.';
  if (layer === '.') continue;
  const text = readFileSync(join(src, file), 'utf8');
  for (const [statement, spec] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
    if (spec.startsWith('node:') && PURE.has(layer))
      problems.push(`${file}: pure layer "${layer}" imports ${spec}`);
    if (layer === 'sdk' && !spec.startsWith('.') && !spec.startsWith('node:') && !SDK_PACKAGES.has(spec))
      problems.push(
        `${file}: the plugin SDK may import only node:* and ${[...SDK_PACKAGES].join(', ')} (${spec})`,
      );
    if (!spec.startsWith('.')) continue;
    const target = relative(src, join(src, dirname(file), spec));
    if (target.startsWith('..')) continue; // vendor/ data, package.json
    const targetLayer = target.includes('/') ? target.split('/')[0] : '.';
    if (targetLayer === layer) continue;
    if (!ALLOWED[layer]?.includes(targetLayer))
      problems.push(`${file}: "${layer}" may not import "${targetLayer}" (${spec})`);
    else if (TYPE_ONLY[layer]?.includes(targetLayer) && !statement.startsWith('import type'))
      problems.push(`${file}: "${layer}" may import only types from "${targetLayer}" (use import type)`);
    else if (!target.endsWith('index.ts'))
      problems.push(`${file}: import "${targetLayer}" through its index.ts, not ${spec}`);
  }
}
if (problems.length) {
  console.error(`layer check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
