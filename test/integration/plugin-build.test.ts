/**
 * README's "Write a plugin in 5 minutes", followed word for word: its two files, then its commands against a real
 * berthd and a real registry (docker-registry), with the docker CLI: build --create, enable, volume create and
 * inspect, build --push, install from the registry. A rebuild pushes the same layer digest.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestDaemon, testDaemon } from './berthd.ts';
import { skipUnlessRegistry, startRegistry, type TestRegistry } from './registry.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Write a plugin in 5 minutes'), README.indexOf('**The SDK**'));
const skip = skipUnlessContainers() || skipUnlessRegistry();

/** The files the section shows, by the `<!-- readme-test: PATH -->` line above each code block. */
function readmeFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of SECTION.matchAll(/<!-- readme-test: (\S+) -->\n```\w+\n([\s\S]*?)```/g))
    files.set(m[1] ?? '', m[2] ?? '');
  return files;
}

/** The section's `sh` blocks, line by line. */
function readmeCommands(): string[] {
  return [...SECTION.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] ?? '').split('\n').filter(Boolean),
  );
}

describe('README: write a plugin in 5 minutes', { skip }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let work: string;
  /** Runs one README command as written, on this test's berthd and registry. */
  const run = (command: string) => {
    const actual = command
      .replaceAll('node bin/berth.js', `node ${join(ROOT, 'bin/berth.js')}`)
      .replaceAll('-H unix:///run/berth/berth.sock', `-H '${d.host}'`)
      .replaceAll('localhost:5000', reg.domain);
    const r = spawnSync('sh', ['-c', actual], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker') },
    });
    assert.equal(r.status, 0, `${command}\n${r.stdout}\n${r.stderr}`);
    return r;
  };

  before(async () => {
    d = testDaemon('berth-readme');
    work = join(d.dir, 'work');
    reg = await startRegistry(join(d.dir, 'registry'));
    await d.start(['--no-runtime-smoke-test']);
    for (const [path, text] of readmeFiles()) {
      mkdirSync(join(work, path, '..'), { recursive: true });
      writeFileSync(join(work, path), text);
    }
  });
  after(async () => {
    await reg?.stop();
    await d?.cleanup();
  });

  it('has the two files and the commands this test runs', () => {
    assert.deepEqual([...readmeFiles().keys()], ['my-vol/config.json', 'my-vol/plugin.ts']);
    assert.equal(readmeCommands().length, 6);
  });

  it('builds, creates, enables and uses the plugin in berthd', () => {
    const [build, enable, create, inspect] = readmeCommands();
    const b = run(build ?? '');
    assert.match(b.stderr, /bundled plugin.ts → \/plugin\/plugin.js/);
    assert.match(b.stderr, /rootfs sha256:[0-9a-f]{64}/);
    assert.match(b.stderr, /creating plugin my-vol in berthd/);
    run(enable ?? '');
    run(create ?? '');
    const volume = JSON.parse(run(inspect ?? '').stdout)[0];
    assert.equal(volume.Driver, 'my-vol:latest');
    assert.ok(existsSync(volume.Mountpoint), `${volume.Mountpoint} is a host directory`);
    writeFileSync(join(volume.Mountpoint, 'hello'), 'hi');
    const ls = spawnSync('docker', ['-H', d.host, 'volume', 'ls', '-q'], { encoding: 'utf8' });
    assert.match(ls.stdout, /^v1$/m);
  });

  it('pushes it to a registry and installs it from there', async () => {
    const [, , , , push, install] = readmeCommands();
    run(push ?? '');
    const remote = `${reg.domain}/me/my-vol:1.0`;
    // Reproducible all the way to the registry: a rebuild pushed under another tag is the same layer.
    const again = remote.replace(':1.0', ':1.1');
    run(`node bin/berth.js plugin build my-vol -o again --name ${again} --push`);
    assert.equal(await layerOf(reg, 'me/my-vol', '1.1'), await layerOf(reg, 'me/my-vol', '1.0'));
    for (const name of [remote, again]) run(`node bin/berth.js plugin rm ${name}`);
    run(install ?? '');
    const p = JSON.parse(
      spawnSync('docker', ['-H', d.host, 'plugin', 'inspect', remote], { encoding: 'utf8' }).stdout,
    )[0];
    assert.equal(p.Enabled, true);
    assert.equal(p.PluginReference, remote);
  });
});

async function layerOf(reg: TestRegistry, repo: string, tag: string): Promise<string> {
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  const m = (await r.json()) as { layers: { digest: string }[] };
  return m.layers[0]?.digest ?? '';
}
