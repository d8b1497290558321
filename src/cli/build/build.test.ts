import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildPlugin, parseLdd, readPluginConfig } from './index.ts';

const EXAMPLE = new URL('../../../examples/authz-deny/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'berth-build-'));
after(() => rmSync(work, { recursive: true, force: true }));

function pluginDir(
  name: string,
  config: unknown,
  program = "import { serve } from 'berth/plugin';\nawait serve({ authz: { request: () => ({ Allow: true }) } }, { socket: 'a.sock' });\n",
): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (program) writeFileSync(join(dir, 'plugin.ts'), program);
  return dir;
}

const MINIMAL = { Interface: { Types: ['docker.authz/1.0'], Socket: 'a.sock' } };

describe('parseLdd', () => {
  it('takes the library paths and the loader, not vdso', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd3b5e9000)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f1c2a000000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c29e1f000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f1c2a5a3000)',
    ].join('\n');
    assert.deepEqual(parseLdd(out), [
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });
});

describe('readPluginConfig', () => {
  it('adds the default Entrypoint and validates as a create does', () => {
    const c = readPluginConfig(pluginDir('minimal', MINIMAL));
    assert.deepEqual(c.Entrypoint, ['/usr/bin/node', '/plugin/plugin.js']);
    assert.throws(
      () =>
        readPluginConfig(
          pluginDir('bad', { Interface: { Types: ['docker.authz/1.0'], Socket: '/abs.sock' } }),
        ),
      /Interface.Socket "\/abs.sock" must be relative/,
    );
    assert.throws(() => readPluginConfig(pluginDir('notjson', '{')), /config.json: .*JSON/);
  });
});

describe('buildPlugin', () => {
  it('writes config.json + a rootfs with node, its libraries and the bundled SDK program', async () => {
    const lines: string[] = [];
    const b = await buildPlugin(pluginDir('one', MINIMAL), {
      output: join(work, 'out-one'),
      progress: (l) => lines.push(l),
    });
    const rootfs = join(b.output, 'rootfs');
    assert.ok(statSync(join(rootfs, 'usr/bin/node')).mode & 0o100);
    assert.ok(
      existsSync(join(rootfs, 'lib64/ld-linux-x86-64.so.2')) ||
        existsSync(join(rootfs, 'lib/ld-linux-aarch64.so.1')),
    );
    const js = readFileSync(join(rootfs, 'plugin/plugin.js'), 'utf8');
    assert.match(js, /application\/vnd\.docker\.plugins\.v1\+json/, 'the SDK is bundled in');
    assert.deepEqual(
      JSON.parse(readFileSync(join(b.output, 'config.json'), 'utf8')).Interface,
      MINIMAL.Interface,
    );
    assert.equal(statSync(join(rootfs, 'usr/bin/node')).mtimeMs, 0);
    assert.match(
      lines.join('\n'),
      /bundled plugin.ts → \/plugin\/plugin.js[\s\S]*rootfs sha256:[0-9a-f]{64}/,
    );
  });

  it('is reproducible: building the same directory again, later, gives the same rootfs digest', async () => {
    const dir = join(work, 'authz-copy');
    cpSync(EXAMPLE, dir, { recursive: true, filter: (p) => !p.includes('/build') });
    const a = await buildPlugin(dir, { output: join(work, 'repro-a') });
    utimesSync(join(dir, 'plugin.ts'), new Date(), new Date(Date.now() + 5_000));
    const b = await buildPlugin(dir, { output: join(work, 'repro-b') });
    assert.equal(a.rootfsDigest, b.rootfsDigest);
    assert.match(a.rootfsDigest, /^sha256:[0-9a-f]{64}$/);
    const c = await buildPlugin(dir, { output: join(work, 'repro-c'), epoch: 1_700_000_000 });
    assert.notEqual(c.rootfsDigest, a.rootfsDigest, 'the digest covers mtimes');
  });

  it('uses a base rootfs instead of the host node when given one', async () => {
    const base = join(work, 'base');
    mkdirSync(join(base, 'usr/bin'), { recursive: true });
    mkdirSync(join(base, 'opt'), { recursive: true });
    writeFileSync(join(base, 'opt/node'), '#!/bin/sh\n');
    symlinkSync('/opt/node', join(base, 'usr/bin/node'));
    const b = await buildPlugin(pluginDir('based', MINIMAL), {
      output: join(work, 'out-based'),
      baseRootfs: base,
    });
    assert.equal(existsSync(join(b.output, 'rootfs/lib64')), false);
    await assert.rejects(
      buildPlugin(pluginDir('based2', { ...MINIMAL, Entrypoint: ['/bin/node', '/p/main.js'] }), {
        baseRootfs: base,
      }),
      /has no \/bin\/node, which config.json's Entrypoint runs/,
    );
  });

  it('fails clearly, leaving the previous output, for a missing program, a bad Entrypoint or a syntax error', async () => {
    const out = join(work, 'out-one');
    await assert.rejects(buildPlugin(join(work, 'nope'), { output: out }), /nope is not a directory/);
    await assert.rejects(
      buildPlugin(pluginDir('noprog', MINIMAL, ''), { output: out }),
      /has no plugin program: add one of plugin.ts/,
    );
    await assert.rejects(
      buildPlugin(pluginDir('badentry', { ...MINIMAL, Entrypoint: ['/usr/bin/node'] }), { output: out }),
      /Entrypoint \["\/usr\/bin\/node"\] must be \[NODE, SCRIPT.js/,
    );
    await assert.rejects(
      buildPlugin(pluginDir('syntax', MINIMAL, 'const = 1;\n'), { output: out }),
      /bundling .*plugin.ts failed: .*plugin.ts:1:/,
    );
    assert.ok(existsSync(join(out, 'rootfs/usr/bin/node')), 'the earlier build is still there');
  });
});
