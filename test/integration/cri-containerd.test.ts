/**
 * berth as a cluster node's runtime registry, against a real containerd 1.6 CRI: berthd `--sync-cri` writes the
 * drop-in and adds it to a private containerd's config; containerd's CRI plugin loads it; a CRI v1 client runs a
 * host-network pod sandbox and a container with each exported runc-compatible handler, and the container's
 * /proc/version proves which runtime ran it (gVisor reports its own kernel). Nothing is pulled: the sandbox
 * image is built from busybox-static. Needs root, runc, runsc, containerd/ctr and busybox-static.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { runBerth, type TestDaemon, testDaemon } from './berthd.ts';
import {
  buildSandboxImage,
  containerdConfig,
  criClients,
  criLogText,
  type PrivateContainerd,
  reapUnder,
  startContainerd,
} from './cri.ts';
import { cannotRunContainers } from './runc-bundle.ts';

function missing(): string | false {
  const reason =
    cannotRunContainers() ??
    ['containerd', 'ctr', 'runsc']
      .map((c) => (spawnSync(c, ['--version']).status === 0 ? '' : c))
      .find(Boolean);
  const why = reason ? `needs ${reason} (scripts/setup.sh installs it)` : undefined;
  if (why && process.env.CI === 'true') throw new Error(`CRI integration test cannot run in CI: ${why}`);
  return why ?? false;
}
const skip = missing();

const SANDBOX_IMAGE = 'berth.test/pause:1';
const GVISOR_ARGS = ['--platform=ptrace', '--ignore-cgroups', '--network=none'];
const RUNTIMES = {
  gvisor: { path: 'runsc', runtimeArgs: GVISOR_ARGS },
  'Runc.Direct': { path: 'runc', kubernetes: { handler: 'runc-direct' } },
  broken: { path: '/nonexistent/runtime' },
};
// biome-ignore lint/suspicious/noExplicitAny: parsed TOML, checked field by field
type Table = Record<string, any>;
const toml = (text: string): Table => JSON.parse(JSON.stringify(parse(text)));

describe('berth → containerd CRI', { skip }, () => {
  let d: TestDaemon;
  let containerd: PrivateContainerd | undefined;
  let dir: string;
  let main: string;
  let dropin: string;

  before(async () => {
    d = testDaemon('berth-cri');
    dir = join(d.dir, 'containerd');
    mkdirSync(dir);
    main = join(dir, 'config.toml');
    dropin = join(dir, 'conf.d', 'berth.toml');
    writeFileSync(main, containerdConfig(dir, SANDBOX_IMAGE));
    d.writeConfig({ runtimes: RUNTIMES });
    await d.start(['--sync-cri', dropin, '--sync-cri-config', main]);
  });
  after(async () => {
    await containerd?.stop();
    reapUnder(dir); // shims outlive containerd; gvisor's cannot even be stopped (see below)
    await d.cleanup();
    // The handlers' state roots (containerd's, /run/containerd/berth/<handler>), used by this test only.
    for (const h of ['broken', 'gvisor', 'runc-direct'])
      rmSync(`/run/containerd/berth/${h}`, { recursive: true, force: true });
  });

  it('berthd wrote the drop-in at start and added it to the imports, keeping the node CRI settings', () => {
    assert.deepEqual(toml(readFileSync(main, 'utf8')).imports, [dropin]);
    const text = readFileSync(dropin, 'utf8');
    const cri = toml(text).plugins['io.containerd.grpc.v1.cri'];
    assert.equal(cri.sandbox_image, SANDBOX_IMAGE);
    assert.equal(cri.containerd.snapshotter, 'native');
    assert.equal(cri.containerd.default_runtime_name, 'runc');
    assert.deepEqual(Object.keys(cri.containerd.runtimes).sort(), ['runc', 'runc-direct']);
    assert.match(text, /# left out: broken: unavailable: /);
    assert.match(text, /# left out: gvisor: unavailable: gVisor \(runsc\) cannot serve containerd CRI pods/);
  });

  it('berth runtime export reports what it left out', async () => {
    const r = await runBerth(d.host, ['runtime', 'export', '--format', 'runtimeclass']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /handler: runc-direct/);
    assert.match(r.stderr, /exported: runc, Runc.Direct as runc-direct/);
    assert.match(r.stderr, /left out: broken: unavailable: /);
  });

  it('serves GET /runtimes/export (400 naming the formats), writes --output files and CRI-O drop-ins', async () => {
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ socketPath: d.socket, path }, (res) => {
          let body = '';
          res.on('data', (b: Buffer) => {
            body += b.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const bad = await get('/v1.41/runtimes/export?format=docker');
    assert.equal(bad.status, 400);
    assert.match(
      JSON.parse(bad.body).message,
      /invalid export format "docker": use one of containerd, containerd-v3, crio/,
    );
    const ok = JSON.parse((await get('/runtimes/export?format=node-labels')).body);
    assert.equal(
      ok.Content,
      'berth.io/runtime.broken=false\nberth.io/runtime.gvisor=false\nberth.io/runtime.runc=true\nberth.io/runtime.runc-direct=true\n',
    );
    const out = join(d.dir, 'classes.yaml');
    assert.equal(
      (await runBerth(d.host, ['runtime', 'export', '--format', 'containerd-v3', '-o', out])).code,
      0,
    );
    assert.equal(toml(readFileSync(out, 'utf8')).version, 3);
    const crio = join(d.dir, 'crio.conf.d');
    const r = await runBerth(d.host, ['runtime', 'configure', '--crio-dropin', crio]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*crio.conf.d\/90-berth.conf\nto apply: systemctl restart crio/);
    // CRI-O runs runsc through conmon: gvisor is exported there.
    const runtimes = toml(readFileSync(join(crio, '90-berth.conf'), 'utf8')).crio.runtime.runtimes;
    assert.deepEqual(Object.keys(runtimes).sort(), ['gvisor', 'runc', 'runc-direct']);
    assert.equal(runtimes.gvisor.runtime_type, 'oci');
  });

  it('a reload that changes a runtime rewrites the drop-in and emits cri-sync; an unchanged one does not', async () => {
    const before = readFileSync(dropin, 'utf8');
    const mtime = statSync(dropin).mtimeMs;
    assert.equal((await runBerth(d.host, ['runtime', 'reload'])).code, 0);
    assert.equal(statSync(dropin).mtimeMs, mtime, 'unchanged reload leaves the drop-in alone');
    d.writeConfig({
      runtimes: { ...RUNTIMES, 'Runc.Direct': { ...RUNTIMES['Runc.Direct'], runtimeArgs: ['--debug'] } },
    });
    assert.equal((await runBerth(d.host, ['runtime', 'reload'])).code, 0);
    assert.notEqual(readFileSync(dropin, 'utf8'), before);
    const until = String(Math.ceil(Date.now() / 1000) + 1);
    const events = await runBerth(d.host, [
      'events',
      '--since',
      '0',
      '--until',
      until,
      '--format',
      'json',
      '-f',
      'event=cri-sync',
    ]);
    const syncs = events.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.equal(syncs.length, 2, events.stdout + events.stderr); // at start, and after the changing reload
    assert.equal(syncs[1].Actor.Attributes.file, dropin);
    assert.equal(syncs[1].Actor.Attributes.handlers, 'runc runc-direct');
  });

  it('berth runtime configure is idempotent on the imports line and rewrites the drop-in', async () => {
    // --include-unavailable keeps gvisor, to check below why it is left out by default.
    const r = await runBerth(d.host, [
      'runtime',
      'configure',
      '--containerd-config',
      main,
      '--dropin',
      dropin,
      '--include-unavailable',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `wrote ${dropin}\n${main} already imports ${dropin}\nto apply: systemctl restart containerd`,
      ),
    );
    const runtimes = toml(readFileSync(dropin, 'utf8')).plugins['io.containerd.grpc.v1.cri'].containerd
      .runtimes;
    assert.deepEqual(Object.keys(runtimes).sort(), ['broken', 'gvisor', 'runc', 'runc-direct']);
  });

  it("containerd's CRI plugin loads the drop-in, and every handler runs its own runtime", async () => {
    containerd = await startContainerd(dir, main);
    const image = await buildSandboxImage(dir, SANDBOX_IMAGE);
    containerd.ctr(['-n', 'k8s.io', 'images', 'import', '--snapshotter', 'native', image]);
    const clients = criClients(containerd.socket);
    try {
      const { plugins } = await clients.plugins();
      const cri = plugins.find((p) => p.type === 'io.containerd.grpc.v1' && p.id === 'cri');
      assert.ok(cri, 'the CRI plugin is listed');
      assert.equal(cri.init_err, null, `CRI plugin failed: ${JSON.stringify(cri.init_err)}`);
      const hostKernel = readFileSync('/proc/version', 'utf8').trim();
      const runtimes = toml(readFileSync(dropin, 'utf8')).plugins['io.containerd.grpc.v1.cri'].containerd
        .runtimes;
      const seen: Record<string, { sandbox: string; container?: string }> = {};
      for (const handler of ['runc', 'runc-direct']) {
        seen[handler] = await inPod(
          clients.cri,
          containerd,
          dir,
          handler,
          runtimes[handler],
          async (pod, config) => ({
            container: await runContainer(clients.cri, pod, config, join(dir, 'pods', handler), handler),
          }),
        );
      }
      assert.deepEqual(seen.runc, { sandbox: hostKernel, container: hostKernel });
      assert.deepEqual(seen['runc-direct'], { sandbox: hostKernel, container: hostKernel });

      // Why gvisor is left out by default: its pod sandbox runs (gVisor's kernel inside), but containerd's runc
      // shim cannot stop it: runsc's "sandbox is not running" is not a kill error the shim accepts.
      const gvisor = await inPod(
        clients.cri,
        containerd,
        dir,
        'gvisor',
        runtimes.gvisor,
        async () => ({}),
        5_000,
      );
      assert.match(gvisor.sandbox, /^Linux version /);
      assert.notEqual(gvisor.sandbox, hostKernel, 'gVisor reports its own kernel');
      assert.match(gvisor.stopError ?? '', /DEADLINE_EXCEEDED/);
      assert.match(containerd.log(), /sandbox is not running/);
    } finally {
      clients.close();
    }
  });
});

type Cri = <T = Record<string, unknown>>(
  method: string,
  request: Record<string, unknown>,
  timeoutMs?: number,
) => Promise<T>;

/**
 * A host-network pod with `handler`: reads /proc/version inside its sandbox with the handler's own runtime
 * (`BinaryName` from the drop-in, berth's wrapper for runtimes with args, and its `Root`), runs `more` in it,
 * then stops and removes it. A stop that fails within `stopMs` is returned as `stopError`.
 */
async function inPod<T extends object>(
  cri: Cri,
  containerd: PrivateContainerd,
  dir: string,
  handler: string,
  // biome-ignore lint/suspicious/noExplicitAny: a parsed TOML table
  table: any,
  more: (pod: string, config: unknown) => Promise<T>,
  stopMs = 30_000,
): Promise<T & { sandbox: string; stopError?: string }> {
  const logDir = join(dir, 'pods', handler);
  mkdirSync(logDir, { recursive: true });
  const config = {
    metadata: {
      name: `probe-${handler}`,
      uid: `uid-${handler}-${process.pid}`,
      namespace: 'berth-test',
      attempt: 0,
    },
    log_directory: logDir,
    linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  let pod: string;
  try {
    ({ pod_sandbox_id: pod } = await cri<{ pod_sandbox_id: string }>('RunPodSandbox', {
      config,
      runtime_handler: handler,
    }));
  } catch (err) {
    const log = containerd
      .log()
      .split('\n')
      .filter((l) => /level=error/.test(l));
    throw new Error(`${handler}: ${(err as Error).message}\n${log.slice(-5).join('\n')}`);
  }
  let result: (T & { sandbox: string }) | undefined;
  try {
    const binary = table.options?.BinaryName ?? 'runc';
    const root = `${table.options?.Root ?? '/run/containerd/runc'}/k8s.io`;
    const sandbox = execFileSync(binary, ['--root', root, 'exec', pod, '/bin/cat', '/proc/version'], {
      encoding: 'utf8',
      timeout: 20_000,
    }).trim();
    result = { sandbox, ...(await more(pod, config)) };
  } finally {
    try {
      await cri('StopPodSandbox', { pod_sandbox_id: pod }, stopMs);
      await cri('RemovePodSandbox', { pod_sandbox_id: pod }, stopMs);
    } catch (err) {
      if (result) Object.assign(result, { stopError: (err as Error).message });
    }
  }
  return result;
}

/** `cat /proc/version` in the pod; waits for its exit and returns what it printed (CRI log file). */
async function runContainer(cri: Cri, pod: string, sandboxConfig: unknown, logDir: string, handler: string) {
  const { container_id: id } = await cri<{ container_id: string }>('CreateContainer', {
    pod_sandbox_id: pod,
    config: {
      metadata: { name: 'probe', attempt: 0 },
      image: { image: SANDBOX_IMAGE },
      command: ['/bin/cat', '/proc/version'],
      log_path: 'probe.log',
      linux: {},
    },
    sandbox_config: sandboxConfig,
  });
  try {
    await cri('StartContainer', { container_id: id });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { status } = await cri<{ status: { state: string; exit_code: number } }>('ContainerStatus', {
        container_id: id,
      });
      if (status.state === 'CONTAINER_EXITED') {
        assert.equal(status.exit_code, 0, `${handler}: cat exited ${status.exit_code}`);
        return criLogText(join(logDir, 'probe.log')).trim();
      }
      if (Date.now() > deadline) throw new Error(`${handler}: the container did not exit`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await cri('RemoveContainer', { container_id: id });
  }
}
