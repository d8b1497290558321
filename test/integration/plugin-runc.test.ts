/**
 * The plugin spec engine end to end: berth builds the spec, runc runs it on a busybox rootfs, and the
 * container reports what it got. Needs root, runc and busybox-static (installed by scripts/setup.sh).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildPluginSpec, DEFAULT_CAPABILITIES, decodePlugin, validateSpec } from '../../src/index.ts';
import { makeBusyboxBundleDir, type RunResult, runBundle, skipUnlessContainers } from './runc-bundle.ts';

const CAP_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_RAW: 13,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_ADMIN: 21,
  CAP_MKNOD: 27,
  CAP_AUDIT_WRITE: 29,
  CAP_SETFCAP: 31,
};
const capMask = (caps: readonly string[]) =>
  caps
    .reduce((m, c) => m | (1n << BigInt(CAP_NUMBERS[c] ?? -1)), 0n)
    .toString(16)
    .padStart(16, '0');

// Prints key=value facts about the container it runs in.
const PROBE = `
for ns in net pid ipc uts mnt; do echo "ns.$ns=$(readlink /proc/self/ns/$ns)"; done
echo "pid=$$"
grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status | sed 's/:[[:space:]]*/=/'
echo "cwd=$(pwd)"
echo "args=$*"
echo "env.DEBUG=$DEBUG"
echo "env.HAS_NOVAL=$(env | grep -c '^NOVAL=')"
echo "shm.count=$(grep -c ' /dev/shm ' /proc/self/mounts)"
echo "shm.marker=$(cat /dev/shm/marker 2>&1)"
echo "mqueue.count=$(grep -c ' /dev/mqueue ' /proc/self/mounts)"
touch /run/docker/plugins/hello && echo sock.write=ok
echo from-plugin > /data/note && echo data.write=ok
echo "dev.allowed=$( (exec 3<"$DEV") 2>&1 | head -n1 )"
[ -p "$FIFO" ] && echo fifo=ok
mknod /dev/ctl c 10 237 && echo "dev.control=$( (exec 3</dev/ctl) 2>&1 | head -n1 )"
echo "hosts.bound=$(grep -c ' /etc/hosts ' /proc/self/mounts)"
(echo x >> /etc/hosts) 2>/dev/null && echo hosts.write=ok || echo hosts.write=denied
if [ -n "$MOUNT_IN_DATA" ]; then mkdir -p /data/sub && mount -t tmpfs -o size=1m berth-it /data/sub && echo inner.mount=ok; fi
`;

const ID = 'd'.repeat(64);
const hostNs = (ns: string) => readlinkSync(`/proc/self/ns/${ns}`);

describe('plugin spec run by runc', { skip: skipUnlessContainers() }, () => {
  let bundle: ReturnType<typeof makeBusyboxBundleDir>;
  let dev = '';
  let fifo = '';

  before(() => {
    bundle = makeBusyboxBundleDir('berth-it-plugin');
    mkdirSync(`${bundle.dir}/propagated-mount`);
    mkdirSync(`${bundle.dir}/shm`);
    writeFileSync(`${bundle.dir}/shm/marker`, 'from-host');
    mkdirSync(`${bundle.dir}/devs`);
    dev = `${bundle.dir}/devs/fuse`;
    fifo = `${bundle.dir}/devs/fifo`;
    execFileSync('mknod', [dev, 'c', '10', '229']); // denied by Docker's default cgroup rules
    execFileSync('mkfifo', [fifo]);
  });
  after(() => bundle.cleanup());

  async function run(config: Record<string, unknown>, env: string[] = []): Promise<RunResult> {
    const plugin = decodePlugin({
      Id: ID,
      Config: {
        Entrypoint: ['/bin/busybox', 'sh', '-c', PROBE, 'probe'],
        Args: { Name: 'args', Settable: ['value'], Value: ['--a', '--b'] },
        Env: [
          { Name: 'DEBUG', Value: '1' },
          { Name: 'NOVAL', Value: null },
          { Name: 'DEV', Value: dev },
          { Name: 'FIFO', Value: fifo },
          ...env.map((e) => ({ Name: e, Value: '1' })),
        ],
        PropagatedMount: '/data',
        Mounts: [
          {
            Name: 'shm',
            Source: `${bundle.dir}/shm`,
            Destination: '/dev/shm',
            Type: 'bind',
            Options: ['rbind', 'rw'],
          },
        ],
        Linux: {
          Capabilities: ['CAP_SYS_ADMIN'],
          Devices: [
            { Name: 'dev', Path: dev },
            { Name: 'fifo', Path: fifo },
          ],
        },
        ...config,
      },
    });
    const spec = buildPluginSpec(plugin, { rootfs: bundle.rootfs, execRoot: `${bundle.dir}/exec` });
    assert.deepEqual(validateSpec(spec), []);
    const result = runBundle(bundle.dir, spec, `berth-it-${process.pid}`);
    assert.equal(result.code, 0, `runc failed: ${result.stderr}`);
    return result;
  }

  describe('a plugin with private namespaces', () => {
    let r: RunResult;
    before(async () => {
      r = await run({});
    });

    it('gets new net, pid, ipc, uts and mount namespaces and runs as pid 1', () => {
      for (const ns of ['net', 'pid', 'ipc', 'uts', 'mnt'])
        assert.notEqual(r.facts.get(`ns.${ns}`), hostNs(ns), ns);
      assert.equal(r.facts.get('pid'), '1');
    });

    it('has the default capabilities plus the plugin’s in every set, and only the plugin’s inheritable', () => {
      const all = capMask([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
      assert.equal(all, '00000000a82425fb'); // the value dockerd's plugin showed (0xa80425fb | SYS_ADMIN)
      for (const set of ['CapBnd', 'CapPrm', 'CapEff']) assert.equal(r.facts.get(set), all, set);
      assert.equal(r.facts.get('CapInh'), capMask(['CAP_SYS_ADMIN']));
      assert.equal(r.facts.get('CapAmb'), '0000000000000000');
    });

    it('runs entrypoint + args in / with PATH and the settings env', () => {
      assert.equal(r.facts.get('args'), '--a --b');
      assert.equal(r.facts.get('cwd'), '/');
      assert.equal(r.facts.get('env.DEBUG'), '1');
      assert.equal(r.facts.get('env.HAS_NOVAL'), '0');
    });

    it('mounts the plugin’s /dev/shm instead of the default, exactly once, and keeps /dev/mqueue', () => {
      assert.equal(r.facts.get('shm.count'), '1');
      assert.equal(r.facts.get('shm.marker'), 'from-host');
      assert.equal(r.facts.get('mqueue.count'), '1');
    });

    it('shares the socket directory and the propagated mount with the host', () => {
      assert.equal(r.facts.get('sock.write'), 'ok');
      assert.ok(existsSync(`${bundle.dir}/exec/${ID}/hello`));
      assert.equal(r.facts.get('data.write'), 'ok');
      assert.equal(readFileSync(`${bundle.dir}/propagated-mount/note`, 'utf8'), 'from-plugin\n');
    });

    it('allows the configured device past the default deny, while other devices stay denied', () => {
      assert.doesNotMatch(r.facts.get('dev.allowed') ?? '', /Operation not permitted/);
      assert.match(r.facts.get('dev.control') ?? '', /Operation not permitted/);
    });

    it('creates a FIFO device without a cgroup rule runc would reject', () => {
      assert.equal(r.facts.get('fifo'), 'ok');
    });

    it('binds no /etc files without a network type', () => {
      assert.equal(r.facts.get('hosts.bound'), '0');
    });
  });

  describe('a plugin on the host network, pid and ipc namespaces with all devices', () => {
    let r: RunResult;
    before(async () => {
      r = await run({
        Network: { Type: 'host' },
        PidHost: true,
        IpcHost: true,
        Linux: { AllowAllDevices: true, Capabilities: ['CAP_SYS_ADMIN'] },
      });
    });

    it('shares net, pid and ipc with the host but keeps its own uts and mount namespaces', () => {
      for (const ns of ['net', 'pid', 'ipc']) assert.equal(r.facts.get(`ns.${ns}`), hostNs(ns), ns);
      for (const ns of ['uts', 'mnt']) assert.notEqual(r.facts.get(`ns.${ns}`), hostNs(ns), ns);
      assert.notEqual(r.facts.get('pid'), '1');
    });

    it('binds the host /etc/hosts read-only', () => {
      assert.equal(r.facts.get('hosts.bound'), '1');
      assert.equal(r.facts.get('hosts.write'), 'denied');
    });

    it('lets the plugin open any device', () => {
      assert.doesNotMatch(r.facts.get('dev.control') ?? '', /Operation not permitted/);
    });
  });

  it('propagates a mount made inside the plugin under PropagatedMount back to the host (rshared)', async () => {
    const host = `${bundle.dir}/propagated-mount`;
    // berth's plugin manager makes the propagated-mount directory a shared mount before enabling.
    execFileSync('mount', ['--bind', host, host]);
    execFileSync('mount', ['--make-rshared', host]);
    try {
      const r = await run({}, ['MOUNT_IN_DATA']);
      assert.equal(r.facts.get('inner.mount'), 'ok');
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
      assert.ok(mounts.includes(` ${host}/sub `), 'the tmpfs made in the plugin is visible on the host');
    } finally {
      spawnSync('umount', ['-R', host]);
    }
  });
});
