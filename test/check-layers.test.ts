/** scripts/check-layers.mjs over small trees of bad (and good) files: each problem is found and named. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

const CHECKER = new URL('../scripts/check-layers.mjs', import.meta.url).pathname;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Writes `files` (path under src/ → text) into a fresh tree and runs the checker over it. */
function check(files: Record<string, string>): { status: number | null; problems: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'berth-layers-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, 'src', path)), { recursive: true });
    writeFileSync(join(root, 'src', path), text);
  }
  const r = spawnSync(process.execPath, [CHECKER, join(root, 'src')], { encoding: 'utf8' });
  const problems = r.stderr
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
  return { status: r.status, problems };
}

const GOOD = {
  'index.ts': "export * from './oci/index.ts';\n",
  'errdefs/index.ts': 'export class NotFoundError extends Error {}\n',
  'oci/index.ts': "export { NotFoundError } from '../errdefs/index.ts';\n",
  'plugins/index.ts': 'export class PluginManager {}\nexport interface Plugin { Name: string }\n',
  'api/index.ts': "import type { Plugin } from '../plugins/index.ts';\nexport type P = Plugin;\n",
  'cli/main.ts':
    "const { NotFoundError } = await import('../errdefs/index.ts');\nexport { NotFoundError };\n",
};

describe('scripts/check-layers.mjs', () => {
  it('passes a tree that keeps the rules', () => {
    assert.deepEqual(check(GOOD), { status: 0, problems: [] });
  });

  it('names each problem: dynamic imports, cycles, concrete classes in api/, the root barrel, and the old rules', () => {
    const { status, problems } = check({
      ...GOOD,
      // a dynamic import is held to the same rules as a static one
      'oci/late.ts': "export const load = () => import('../host/index.ts');\n",
      'errdefs/fs.ts': "export const fs = () => import('node:fs');\n",
      'host/index.ts': 'export const x = 1;\n',
      // a cycle inside a layer, through a dynamic import as the CLI once had one
      'cli/spec.ts': "export const USAGE = 'u';\nexport const run = () => import('./spec-build.ts');\n",
      'cli/spec-build.ts': "import { USAGE } from './spec.ts';\nexport const build = () => USAGE;\n",
      // api/ takes a service class (even as a type) instead of declaring a port
      'api/backend.ts':
        "import type { Plugin, PluginManager } from '../plugins/index.ts';\nexport type B = [Plugin, PluginManager];\n",
      'api/routes.ts': "import { PluginManager as M } from '../plugins/index.ts';\nexport const m = M;\n",
      // the CLI reaches for the library barrel
      'cli/build.ts': "import { NotFoundError } from '../index.ts';\nexport const e = NotFoundError;\n",
      // the rules the checker always had
      'oci/deep.ts':
        "import { NotFoundError } from '../errdefs/index.ts';\nimport { x } from '../plugins/index.ts';\nexport { NotFoundError, x };\n",
      'api/deep.ts': "import type { Plugin } from '../plugins/plugin.ts';\nexport type P = Plugin;\n",
      'plugins/plugin.ts': 'export interface Plugin { Name: string }\n',
    });
    assert.equal(status, 1);
    const expected = [
      'oci/late.ts: "oci" may not import "host" (import(../host/index.ts))',
      'errdefs/fs.ts: pure layer "errdefs" imports import(node:fs)',
      'import cycle: cli/spec-build.ts → cli/spec.ts → cli/spec-build.ts',
      'api/backend.ts: "api" may not import the concrete class PluginManager of "plugins": declare the calls it needs as a port in api/ports.ts',
      'api/routes.ts: "api" may not import the concrete class PluginManager of "plugins": declare the calls it needs as a port in api/ports.ts',
      'cli/build.ts: imports the root barrel src/index.ts (../index.ts): import each layer through its own index.ts',
      'oci/deep.ts: "oci" may not import "plugins" (../plugins/index.ts)',
      'api/deep.ts: import "plugins" through its index.ts, not ../plugins/plugin.ts',
    ];
    assert.deepEqual([...problems].sort(), [...expected].sort());
  });

  it('finds a longer cycle across files of different folders and a file importing itself', () => {
    const { problems } = check({
      ...GOOD,
      'daemon/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
      'daemon/b.ts': "import { c } from './sub/c.ts';\nexport const b = c;\n",
      'daemon/sub/c.ts': "import type { a } from '../a.ts';\nexport const c = 1 as unknown as typeof a;\n",
      'daemon/self.ts': "export { self } from './self.ts';\nexport const x = 1;\n",
    });
    assert.deepEqual(problems, [
      'import cycle: daemon/a.ts → daemon/b.ts → daemon/sub/c.ts → daemon/a.ts (through import type: gone at run time, but the files still depend on each other)',
      'import cycle: daemon/self.ts → daemon/self.ts',
    ]);
  });
});
