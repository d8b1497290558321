import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mergeDaemonConfig, readConfigFile } from './config.ts';

describe('mergeDaemonConfig()', () => {
  it('uses dockerd-like defaults', () => {
    const c = mergeDaemonConfig({}, {});
    assert.equal(c.host, 'unix:///run/berth/berth.sock');
    assert.equal(c.dataRoot, '/var/lib/berth');
    assert.equal(c.execRoot, '/run/berth');
    assert.equal(c.pidfile, '/run/berth/berthd.pid');
    assert.equal(c.runtimeSmokeTest, true);
  });

  it('takes values from the file and from flags', () => {
    const c = mergeDaemonConfig(
      { execRoot: '/x/exec', addRuntime: ['crun=/usr/bin/crun'] },
      {
        'data-root': '/x/data',
        hosts: ['unix:///x/s.sock'],
        runtimes: { a: { path: 'runc' } },
        'runtime-smoke-test': false,
      },
    );
    assert.equal(c.dataRoot, '/x/data');
    assert.equal(c.execRoot, '/x/exec');
    assert.equal(c.host, 'unix:///x/s.sock');
    assert.equal(c.runtimeSmokeTest, false);
    assert.deepEqual(c.runtimes, {
      runtimes: { a: { path: 'runc' } },
      defaultRuntime: undefined,
      addRuntime: ['crun=/usr/bin/crun'],
    });
  });

  it('takes metrics-addr from the flag or daemon.json, off by default, and names a bad value', () => {
    assert.equal(mergeDaemonConfig({}, {}).metricsAddr, undefined);
    assert.deepEqual(mergeDaemonConfig({ metricsAddr: '0.0.0.0:9323' }, {}).metricsAddr, {
      host: '0.0.0.0',
      port: 9323,
    });
    assert.deepEqual(mergeDaemonConfig({}, { 'metrics-addr': ':9323' }).metricsAddr, {
      host: '127.0.0.1',
      port: 9323,
    });
    assert.throws(
      () => mergeDaemonConfig({ metricsAddr: 'localhost' }, {}),
      /^InvalidParameterError: metrics-addr must be HOST:PORT like 127.0.0.1:9323 \(or :PORT for loopback\), got "localhost": it has no :PORT$/,
    );
    assert.throws(
      () => mergeDaemonConfig({}, { 'metrics-addr': 9323 }),
      /metrics-addr must be a non-empty string, got 9323/,
    );
    assert.throws(
      () => mergeDaemonConfig({ metricsAddr: ':1' }, { 'metrics-addr': ':2' }),
      /specified both as a flag and in the configuration file: metrics-addr/,
    );
  });

  it('carries --sync-cri and its companions, and refuses them half-given or relative', () => {
    assert.deepEqual(
      mergeDaemonConfig({ syncCri: '/etc/c/berth.toml', syncCriConfig: '/etc/c/config.toml' }, {}).criSync,
      { file: '/etc/c/berth.toml', containerdConfig: '/etc/c/config.toml' },
    );
    assert.equal(mergeDaemonConfig({}, {}).criSync, undefined);
    assert.throws(() => mergeDaemonConfig({ syncCriFormat: 'crio' }, {}), /need --sync-cri FILE/);
    assert.throws(
      () => mergeDaemonConfig({ syncCri: 'berth.toml' }, {}),
      /--sync-cri must be an absolute path/,
    );
  });

  it("refuses unknown directives with dockerd's message", () => {
    assert.throws(
      () => mergeDaemonConfig({}, { 'data-rot': '/x', debug: true }),
      /the following directives don't match any configuration option: data-rot, debug/,
    );
  });

  it('refuses a directive given both as flag and in the file', () => {
    assert.throws(
      () => mergeDaemonConfig({ dataRoot: '/a' }, { 'data-root': '/b' }),
      /specified both as a flag and in the configuration file: data-root: \(from flag: \/a, from file: "\/b"\)/,
    );
  });

  it('names each bad value', () => {
    assert.throws(
      () => mergeDaemonConfig({ host: 'tcp://0.0.0.0:2375' }, {}),
      /host must look like unix:\/\/\//,
    );
    assert.throws(
      () => mergeDaemonConfig({}, { 'exec-root': 'run' }),
      /exec-root must be an absolute path, got run/,
    );
    assert.throws(() => mergeDaemonConfig({ logLevel: 'loud' }, {}), /log-level must be one of/);
    assert.throws(
      () => mergeDaemonConfig({}, { 'runtime-smoke-test': 'yes' }),
      /runtime-smoke-test must be true or false/,
    );
  });
});

describe('readConfigFile()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an object and refuses broken JSON or a non-object, naming the file', () => {
    writeFileSync(join(dir, 'ok.json'), '{"runtimes": {}}');
    assert.deepEqual(readConfigFile(join(dir, 'ok.json')), { runtimes: {} });
    writeFileSync(join(dir, 'bad.json'), '{"runtimes": ');
    assert.throws(
      () => readConfigFile(join(dir, 'bad.json')),
      /unable to configure berthd with file .*bad\.json/,
    );
    writeFileSync(join(dir, 'arr.json'), '[]');
    assert.throws(() => readConfigFile(join(dir, 'arr.json')), /top level must be a JSON object/);
  });

  it('requires an explicitly named file to exist', () => {
    assert.throws(() => readConfigFile(join(dir, 'missing.json')), /no such file/);
  });
});
