/**
 * Small helpers of the plugin integration tests: a POST to a plugin's socket, the containers runc knows under a
 * root, a bounded wait for a condition, and the behave test plugin with its manifest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { socketAddress } from '../../src/host/index.ts';

/** POSTs to a plugin socket; `socketAddress` copes with paths longer than a sockaddr_un holds. */
export function post(socket: string, path: string, body = ''): Promise<{ status: number; body: string }> {
  const address = socketAddress(dirname(socket), basename(socket));
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath: address.path, method: 'POST', path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  }).finally(() => address.close());
}

/** The last `n` lines of `log` that mention `word` (for an assertion's message). */
export function lastLines(log: string, word: string, n = 6): string {
  return log
    .split('\n')
    .filter((l) => l.includes(word))
    .slice(-n)
    .join('\n');
}

/**
 * `runc list` of one root. A container deleted while runc reads the root (a `runc run` ending, a delete that
 * berth-spawner finishes after berthd was killed) makes runc fail on its vanished state dir: asked again.
 */
export function runcList(root: string): { id: string; status: string; pid: number }[] {
  if (!existsSync(root)) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      const out = execFileSync('runc', ['--root', root, 'list', '--format', 'json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return (JSON.parse(out || 'null') ?? []) as { id: string; status: string; pid: number }[];
    } catch (err) {
      if (attempt === 5 || !/no such file or directory/.test(String((err as { stderr?: string }).stderr)))
        throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/** Containers registered under every `runtime-*` root of an exec root. */
export function runcContainers(execRoot: string): { id: string; status: string; pid: number }[] {
  if (!existsSync(execRoot)) return [];
  return readdirSync(execRoot)
    .filter((d) => d.startsWith('runtime-'))
    .flatMap((d) => runcList(join(execRoot, d)));
}

export function runcIds(root: string): string[] {
  return runcList(root).map((c) => c.id);
}

export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The Node.js test plugin (its behaviour set by MODE and friends) and a volume-driver manifest for it. */
export const BEHAVE_FIXTURE = new URL('../fixtures/plugins/behave.ts', import.meta.url).pathname;

export const BEHAVE_MANIFEST = {
  Description: 'berth test plugin',
  Entrypoint: ['/usr/bin/node', '/plugin/plugin.js'],
  Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'behave.sock' },
  Env: ['MODE', 'EXIT_CODE', 'CRASH_AFTER_MS', 'IMPLEMENTS', 'TICK_MS'].map((Name) => ({
    Name,
    Settable: ['value'],
    Value: null,
  })),
  Args: { Name: 'args', Settable: ['value'], Value: ['--default'] },
  Mounts: [
    {
      Name: 'state',
      Destination: '/state',
      Type: 'bind',
      Options: ['rbind'],
      Source: null,
      Settable: ['source'],
    },
  ],
};
