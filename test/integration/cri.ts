/**
 * Test support for the CRI tests: a private containerd (own socket, root, state and config under a temp
 * dir, stopped by pid), a sandbox image built here from busybox-static (nothing is pulled), and CRI v1 /
 * Introspection clients over berth's src/grpc loader and the vendored protos.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { clearTasks, killShimsOf } from '../../bench/fixtures/containerd.ts';
import {
  CONTAINERD_INTROSPECTION_PROTO,
  CRI_PROTO,
  loadProtos,
  serviceOf,
  unary,
  unixClient,
} from '../../src/grpc/index.ts';
import { waitFor } from './berthd.ts';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * A Docker-archive image (`manifest.json` + config + one layer) holding busybox, its entrypoint `sleep`: what
 * `ctr images import` reads. Returns the tarball's path.
 */
export async function buildSandboxImage(dir: string, ref: string): Promise<string> {
  const rootfs = join(dir, 'image-rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const tool of ['sh', 'cat', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', tool));
  const out = join(dir, 'image');
  mkdirSync(out, { recursive: true });
  await tar.c({ cwd: rootfs, file: join(out, 'layer.tar'), portable: true, noMtime: true }, ['bin']);
  const layer = readFileSync(join(out, 'layer.tar'));
  const config = JSON.stringify({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    config: { Entrypoint: ['/bin/sleep', '3600'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
  });
  const configName = `${sha256(config)}.json`;
  writeFileSync(join(out, configName), config);
  writeFileSync(
    join(out, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: ['layer.tar'] }]),
  );
  const file = join(dir, 'sandbox-image.tar');
  await tar.c({ cwd: out, file, portable: true }, ['manifest.json', configName, 'layer.tar']);
  return file;
}

export interface PrivateContainerd {
  readonly socket: string;
  readonly process: ChildProcess;
  log(): string;
  ctr(args: readonly string[]): string;
  /** Stops containerd only: its shims and tasks live on (as a containerd restart needs). */
  stop(): Promise<void>;
  /**
   * After a test: kills and deletes every task (bounded, 5 s), stops containerd, then kills whatever shim is still
   * there with its container processes. Shims outlive containerd, and a test that leaves tasks behind leaked them.
   */
  destroy(): Promise<void>;
}

/** Starts `containerd --config FILE` on private paths and waits for its socket. */
export async function startContainerd(dir: string, config: string): Promise<PrivateContainerd> {
  const socket = join(dir, 'containerd.sock');
  const child = spawn(
    'containerd',
    ['--config', config, '--address', socket, '--root', join(dir, 'root'), '--state', join(dir, 'state')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  await waitFor(
    () => exited || stderr.includes('containerd successfully booted'),
    30_000,
    'containerd to boot',
  );
  if (exited) throw new Error(`containerd exited at start:\n${stderr}`);
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    const done = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(killer);
  };
  return {
    socket,
    process: child,
    log: () => stderr,
    ctr: (args) => execFileSync('ctr', ['--address', socket, ...args], { encoding: 'utf8' }),
    stop,
    async destroy() {
      if (running()) await clearTasks(socket, 5000);
      await stop();
      killShimsOf(socket);
    },
  };
}

/** The minimal private containerd 1.x config the CRI tests start from (the drop-in is added by berth). */
export function containerdConfig(dir: string, sandboxImage: string): string {
  return `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"

[grpc]
  address = "${join(dir, 'containerd.sock')}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  disable_tcp_service = true
  # This machine may not lower oom_score_adj (no CAP_SYS_RESOURCE in its own container): the sandbox's -998
  # would kill runc init ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${join(dir, 'cni-bin')}"
    conf_dir = "${join(dir, 'cni-conf')}"
`;
}

type Message = Record<string, unknown>;

/** CRI v1 RuntimeService + containerd Introspection on one socket. */
export function criClients(socket: string) {
  const cri = unixClient(serviceOf(loadProtos(CRI_PROTO), 'runtime.v1.RuntimeService'), socket);
  const intro = unixClient(
    serviceOf(
      loadProtos(CONTAINERD_INTROSPECTION_PROTO),
      'containerd.services.introspection.v1.Introspection',
    ),
    socket,
  );
  return {
    cri: <T = Message>(method: string, request: Message, timeoutMs = 30_000) =>
      unary<T>(cri, method, request, { timeoutMs }),
    plugins: () =>
      unary<{ plugins: { type: string; id: string; init_err: unknown }[] }>(intro, 'Plugins', {
        filters: [],
      }),
    close() {
      cri.close();
      intro.close();
    },
  };
}

/**
 * After a test: SIGKILLs every process whose command line names `dir` (the shims and runtime processes of the
 * private containerd: shims outlive containerd), then unmounts whatever is still mounted under `dir`.
 */
export function reapUnder(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (Number(pid) !== process.pid && cmdline.includes(dir)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
      removeShimSocket(cmdline.split('\0'));
    }
  }
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replaceAll('\\040', ' '))
    .filter((m) => m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/**
 * A killed shim leaves its socket in /run/containerd/s (not under the private root): containerd names it
 * sha256("<containerd address>/<namespace>/<id>") (runtime/v2/shim.SocketAddress).
 */
function removeShimSocket(argv: readonly string[]): void {
  if (!argv[0]?.includes('containerd-shim')) return;
  const flag = (name: string) => argv[argv.indexOf(name) + 1];
  const [ns, id, address] = [flag('-namespace'), flag('-id'), flag('-address')];
  if (!ns || !id || !address) return;
  const hash = sha256(`${address}/${ns}/${id}`);
  rmSync(`/run/containerd/s/${hash}`, { force: true });
}

/** `<time> stdout F <line>` CRI log lines → the text. */
export function criLogText(file: string): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(3).join(' '))
    .join('\n');
}

/**
 * Why the containerd tests cannot run here, or false. Under CI they always run (and fail without containerd):
 * setup.sh installs it.
 */
export function skipUnlessContainerd(): string | false {
  if (process.env.CI === 'true' || spawnSync('containerd', ['--version']).status === 0) return false;
  return 'containerd is not installed (bash scripts/setup.sh)';
}
