/**
 * The production install: `npm pack`, then `npm install -g` of the tarball into an empty prefix gives both
 * programs, and berthd from there serves berth; the shipped systemd unit passes `systemd-analyze verify`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from './berthd.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;

describe('installing the package', {
  skip: isRoot || process.env.CI === 'true' ? false : 'needs root',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-install-'));
  const prefix = join(dir, 'prefix');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs berth and berthd from the packed tarball into an empty prefix', async () => {
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(pack.status, 0, pack.stderr);
    const [{ filename, files }] = JSON.parse(pack.stdout) as [
      { filename: string; files: { path: string }[] },
    ];
    const shipped = files.map((f) => f.path);
    for (const f of [
      'bin/berthd.js',
      'bin/berth.js',
      'dist/daemon/entry.js',
      'contrib/systemd/berthd.service',
    ])
      assert.ok(shipped.includes(f), `${f} is not in the package`);
    assert.ok(
      !shipped.some((f) => f.endsWith('.test.js') || f.startsWith('src/')),
      'tests or sources shipped',
    );
    const install = spawnSync(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(dir, filename),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(install.status, 0, install.stderr);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const berthd = spawnSync(join(prefix, 'bin', 'berthd'), ['--version'], { encoding: 'utf8' });
    assert.deepEqual([berthd.status, berthd.stdout.trim()], [0, version]);

    const socket = join(dir, 'berth.sock');
    const daemon = spawn(
      join(prefix, 'bin', 'berthd'),
      [
        '-H',
        `unix://${socket}`,
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'pid'),
        '--no-runtime-smoke-test',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    daemon.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    try {
      await waitFor(() => log.includes('berthd listening') || daemon.exitCode !== null, 30_000, 'berthd');
      const v = spawnSync(join(prefix, 'bin', 'berth'), ['-H', `unix://${socket}`, 'version'], {
        encoding: 'utf8',
      });
      assert.equal(v.status, 0, `${v.stderr}\n${log}`);
      assert.match(
        v.stdout,
        new RegExp(
          `^Client: berth ${version}\nServer: berthd ${version}\n API version: 1\\.\\d+ \\(minimum 1\\.12\\)`,
        ),
      );
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
  });

  it('ships a systemd unit that systemd-analyze verify accepts', () => {
    const unit = readFileSync(join(ROOT, 'contrib/systemd/berthd.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/berthd$/m);
    // verify checks that ExecStart exists: point it at the installed program (or node when run alone).
    const program =
      spawnSync('test', ['-x', join(prefix, 'bin', 'berthd')]).status === 0
        ? join(prefix, 'bin', 'berthd')
        : process.execPath;
    const copy = join(dir, 'berthd.service');
    writeFileSync(copy, unit.replace('/usr/local/bin/berthd', program));
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'systemd-analyze is missing (apt-get install systemd)');
    assert.deepEqual([r.status, r.stderr], [0, '']);
  });
});
