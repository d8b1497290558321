import { randomBytes } from 'node:crypto';
import { arch, platform } from 'node:os';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { registryAuthFrom } from '../../registry/index.ts';
import type { Backend } from '../backend.ts';
import type { ApiServer } from '../server/server.ts';
import { API_VERSION, MIN_API_VERSION, olderThan, requestApiVersion } from '../versions.ts';
import { runtimeInfo } from '../views.ts';

const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  ppc64: 'ppc64le',
};

/** `/_ping`, `/auth`, `/version`, `/info`. */
export function registerSystemRoutes(app: ApiServer, backend: Backend): void {
  const f = backend.system.facts;

  app.get('/_ping', async (_req, reply) => {
    reply.header('Cache-Control', 'no-cache, no-store, must-revalidate').header('Pragma', 'no-cache');
    return reply.type('text/plain; charset=utf-8').send('OK');
  });

  // `docker login`: checks the credentials against the registry; nothing is stored (the client keeps them).
  app.post('/auth', async (req) => {
    const auth = registryAuthFrom(req.body);
    if (!auth?.username && !auth?.identitytoken && !auth?.registrytoken) {
      throw new InvalidParameterError(
        'the body must be an AuthConfig with username and password (or a token)',
      );
    }
    await backend.distribution.login(auth);
    return { Status: 'Login Succeeded', IdentityToken: '' };
  });

  app.get('/version', async () => {
    const engine = {
      Version: f.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      Os: platform(),
      Arch: GO_ARCH[arch()] ?? arch(),
      KernelVersion: f.kernelVersion,
    };
    const runc = backend.runtimes.current().runtimes.get('runc')?.probe.version;
    return {
      Platform: { Name: 'berth' },
      Components: [
        { Name: 'Engine', Version: f.version, Details: { ...engine, Experimental: 'false', GitCommit: '' } },
        ...(runc
          ? [{ Name: 'runc', Version: runc.replace(/^runc version /, ''), Details: { GitCommit: '' } }]
          : []),
      ],
      ...engine,
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      BuildTime: '',
    };
  });

  app.get('/info', async (req, reply) => {
    const info = { ...systemInfo(backend), ...(await executorInfo(backend)) };
    const shaped = shapeInfoFor(requestApiVersion(req.originalUrl), info);
    return reply.type('application/json').send(infoJson(shaped, runtimeInfo(backend.runtimes.current())));
  });
}

// Stand-ins for the runtime blocks while the rest of /info is serialised; the nonce keeps any other string from
// ever matching them.
const NONCE = randomBytes(8).toString('hex');
const RUNTIMES_MARK = `berth-runtimes-${NONCE}`;
const VIEWS_MARK = `berth-runtime-views-${NONCE}`;

/**
 * `JSON.stringify(info)`, byte for byte, with the runtime blocks (most of the bytes, the same until a reload)
 * taken from their JSON serialised once per runtime set instead of serialised again.
 */
export function infoJson(
  info: Record<string, unknown>,
  rt: { runtimes: unknown; views: unknown; runtimesJson: string; viewsJson: string },
): string {
  const marked = { ...info };
  if (marked.Runtimes === rt.runtimes) marked.Runtimes = RUNTIMES_MARK;
  if (marked.BerthRuntimes === rt.views) marked.BerthRuntimes = VIEWS_MARK;
  return JSON.stringify(marked)
    .replace(`"${RUNTIMES_MARK}"`, () => rt.runtimesJson)
    .replace(`"${VIEWS_MARK}"`, () => rt.viewsJson);
}

/**
 * `/info` as dockerd shapes it for older clients: before 1.25 an `ExecutionDriver` and name-only security options,
 * before 1.39 `<unknown>` for an unknown kernel or OS.
 */
export function shapeInfoFor(version: string, info: Record<string, unknown>): Record<string, unknown> {
  const out = { ...info };
  if (olderThan(version, '1.39')) {
    if (!out.KernelVersion) out.KernelVersion = '<unknown>';
    if (!out.OperatingSystem) out.OperatingSystem = '<unknown>';
  }
  if (olderThan(version, '1.25')) {
    out.ExecutionDriver = '<not supported>';
    out.SecurityOptions = ((out.SecurityOptions as string[] | undefined) ?? []).map(
      (o) => /(?:^|,)name=([^,]+)/.exec(o)?.[1] ?? o,
    );
  }
  return out;
}

/** dockerd's `ContainerdCommit` when containerd runs the containers, and berth's executor line. */
async function executorInfo(backend: Backend): Promise<Record<string, unknown>> {
  const ex = await backend.system.executor?.();
  if (!ex) return {};
  const commit = ex.containerd?.revision ?? '';
  return {
    BerthExecutor: ex.description,
    ...(ex.containerd
      ? { ContainerdCommit: { ID: commit, Expected: commit }, BerthContainerdVersion: ex.containerd.version }
      : {}),
  };
}

function systemInfo(backend: Backend): Record<string, unknown> {
  const f = backend.system.facts;
  const set = backend.runtimes.current();
  const defaultRt = set.runtimes.get(set.defaultRuntime);
  // dockerd reports the runtime's commit; runc publishes it in its features annotations.
  const annotations = defaultRt?.probe.features?.annotations as Record<string, string> | undefined;
  const commit = annotations?.['org.opencontainers.runc.commit'] ?? defaultRt?.probe.version ?? '';
  return {
    ID: f.id,
    Containers: 0,
    ContainersRunning: 0,
    ContainersPaused: 0,
    ContainersStopped: 0,
    Images: 0,
    Driver: '',
    DriverStatus: null,
    // Unlike dockerd's (built-in and v1 drivers only), Volume lists the enabled managed volume plugins.
    Plugins: {
      Volume: backend.plugins.list({ enabled: true, capability: ['volumedriver'] }).map((p) => p.Name),
      Network: [],
      Authorization: null,
      Log: [],
    },
    CgroupDriver: 'cgroupfs',
    CgroupVersion: f.cgroupVersion,
    KernelVersion: f.kernelVersion,
    OperatingSystem: f.operatingSystem,
    OSType: 'linux',
    Architecture: f.architecture,
    NCPU: f.ncpu,
    MemTotal: f.memTotal,
    DockerRootDir: f.dataRoot,
    Name: f.name,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: f.version,
    Runtimes: runtimeInfo(set).runtimes,
    DefaultRuntime: set.defaultRuntime,
    RuncCommit: { ID: commit, Expected: commit },
    SecurityOptions: [],
    Warnings: [
      ...[...set.runtimes.values()]
        .filter((rt) => rt.probe.health !== 'ok' && rt.kind === 'runc')
        .map((rt) => `WARNING: runtime ${rt.name} is ${rt.probe.health}: ${rt.probe.reason}`),
      ...backend.system.warnings().map((w) => `WARNING: ${w}`),
    ],
    BerthRuntimes: runtimeInfo(set).views,
    BerthExecRoot: f.execRoot,
  };
}
