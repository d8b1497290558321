/** A real distribution registry (Debian's docker-registry) on a free loopback port, for pull/push tests. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface TestRegistry {
  /** `localhost:PORT`: a reference domain Docker and berth both treat as insecure (plain HTTP). */
  readonly domain: string;
  readonly url: string;
  stop(): Promise<void>;
}

/** Why the registry tests cannot run here, or undefined. */
export function skipUnlessRegistry(): string | false {
  return spawnSync('docker-registry', ['--version']).status === 0
    ? false
    : 'docker-registry is not installed (bash scripts/setup.sh installs it)';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts a registry storing under `dir`. `auth` adds htpasswd Basic authentication (a line of `htpasswd -nbB`)
 * or token authentication (the registry's `auth.token` settings).
 */
export async function startRegistry(
  dir: string,
  auth?:
    | { htpasswd: string }
    | { token: { realm: string; service: string; issuer: string; rootcertbundle: string } },
): Promise<TestRegistry> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log: {level: error}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'data'))}}, delete: {enabled: true}}`,
    `http: {addr: "127.0.0.1:${port}"}`,
  ];
  if (auth && 'token' in auth) {
    config.push(`auth: {token: ${JSON.stringify(auth.token)}}`);
  } else if (auth) {
    writeFileSync(join(dir, 'htpasswd'), auth.htpasswd);
    config.push(`auth: {htpasswd: {realm: berth-test, path: ${JSON.stringify(join(dir, 'htpasswd'))}}}`);
  }
  writeFileSync(join(dir, 'config.yml'), `${config.join('\n')}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`${url}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    domain: `localhost:${port}`,
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
