/**
 * `berth plugin install|push|upgrade`: the registry side of plugins, as the docker CLI does it (privileges shown and
 * granted, pull, set, enable; cleanup when a step fails), with credentials from the docker CLI's config file.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { BerthClient } from '../../client/index.ts';
import { InvalidParameterError, SystemError } from '../../errdefs/index.ts';
import type { PluginPrivilege } from '../../plugins/index.ts';
import { encodeRegistryAuth, parseRemoteReference, type RegistryAuth } from '../../registry/index.ts';
import { clientFor } from '../host.ts';

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/**
 * `X-Registry-Auth` for the registry of `reference`, from `$DOCKER_CONFIG/config.json` (or ~/.docker) as written by
 * `docker login` (plain `auths` entries; credential helpers are not run).
 */
export function registryAuthHeader(reference: string, configDir?: string): Record<string, string> {
  const dir = configDir ?? process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  let auths: Record<string, { auth?: string; identitytoken?: string }> = {};
  const file = join(dir, 'config.json');
  try {
    auths = (JSON.parse(readFileSync(file, 'utf8')) as { auths?: typeof auths }).auths ?? {};
  } catch (err) {
    // No file means no login; a file that cannot be used must not silently mean anonymous access.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      process.stderr.write(`warning: ignoring ${file} (${(err as Error).message}): using anonymous access\n`);
    return {};
  }
  const domain = parseRemoteReference(reference).domain;
  const entry =
    domain === 'docker.io' ? auths[DOCKER_HUB_KEY] : (auths[domain] ?? auths[`https://${domain}`]);
  if (!entry) return {};
  const [username, ...rest] = Buffer.from(entry.auth ?? '', 'base64')
    .toString('utf8')
    .split(':');
  const auth: RegistryAuth = {
    ...(username ? { username, password: rest.join(':') } : {}),
    ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}),
    serveraddress: domain,
  };
  return { 'X-Registry-Auth': encodeRegistryAuth(auth) };
}

/** Prints Docker JSON progress lines as `id: status`; fails on an error line; returns the last aux message. */
export async function printProgress(
  res: IncomingMessage,
  out: NodeJS.WritableStream = process.stdout,
): Promise<unknown> {
  let aux: unknown;
  let rest = '';
  const handle = (line: string) => {
    if (!line.trim()) return;
    const m = JSON.parse(line) as { status?: string; id?: string; error?: string; aux?: unknown };
    if (m.error) throw new SystemError(m.error);
    if (m.aux !== undefined) aux = m.aux;
    else if (m.status) out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
  };
  for await (const chunk of res) {
    const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(rest);
  return aux;
}

/** Shows what a plugin asks for and gets the user's consent (or `--grant-all-permissions`). */
async function grant(remote: string, privileges: PluginPrivilege[], all: boolean): Promise<void> {
  if (!privileges.length) return;
  process.stderr.write(`Plugin "${remote}" is requesting the following privileges:\n`);
  for (const p of privileges) process.stderr.write(` - ${p.Name}: [${p.Value.join(' ')}]\n`);
  if (all) return;
  if (!process.stdin.isTTY) {
    throw new InvalidParameterError(
      'the plugin needs these privileges: review them and rerun with --grant-all-permissions',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Do you grant the above permissions? [y/N] ');
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new InvalidParameterError('plugin installation denied');
}

async function privilegesOf(client: BerthClient, remote: string, headers: Record<string, string>) {
  return client.json<PluginPrivilege[]>('GET', `/plugins/privileges?remote=${encodeURIComponent(remote)}`, {
    headers,
  });
}

const path = (name: string, action: string) => `/plugins/${encodeURI(name)}/${action}`;

export function registerPluginRegistry(plugin: Command): void {
  plugin
    .command('install')
    .description('pull a plugin from a registry, apply settings and enable it (like docker plugin install)')
    .argument('<remote>', 'e.g. localhost:5000/team/vol:1.0')
    .argument('[settings...]', 'NAME[.FIELD]=VALUE applied before enabling')
    .option('--alias <name>', 'local name (default: the remote name)')
    .option('--grant-all-permissions', 'grant what the plugin asks for without asking')
    .option('--disable', 'do not enable the plugin')
    .action(
      async (
        remote: string,
        settings: string[],
        o: { alias?: string; grantAllPermissions?: boolean; disable?: boolean },
        cmd: Command,
      ) => {
        const client = clientFor(cmd);
        const headers = registryAuthHeader(remote);
        const privileges = await privilegesOf(client, remote, headers);
        await grant(remote, privileges, Boolean(o.grantAllPermissions));
        const q = `?remote=${encodeURIComponent(remote)}${o.alias ? `&name=${encodeURIComponent(o.alias)}` : ''}`;
        const res = await client.stream('POST', `/plugins/pull${q}`, { body: privileges, headers });
        const name = String(res.headers['docker-plugin-name'] ?? o.alias ?? remote);
        await printProgress(res);
        try {
          if (settings.length) await client.json('POST', path(name, 'set'), { body: settings });
          if (!o.disable) await client.json('POST', `${path(name, 'enable')}?timeout=0`);
        } catch (err) {
          await client.json('DELETE', `/plugins/${encodeURI(name)}?force=1`).catch(() => undefined);
          throw err;
        }
        process.stdout.write(`Installed plugin ${remote}\n`);
      },
    );

  plugin
    .command('push')
    .description('push a plugin to the registry its name names (e.g. localhost:5000/team/vol:1.0)')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const res = await clientFor(cmd).stream('POST', path(name, 'push'), {
        headers: registryAuthHeader(name),
      });
      await printProgress(res);
    });

  plugin
    .command('upgrade')
    .description(
      'replace a disabled plugin with a new version from a registry (settings you changed are kept)',
    )
    .argument('<name>')
    .argument('[remote]', 'default: where the plugin came from')
    .option('--grant-all-permissions', 'grant what the new version asks for without asking')
    .action(
      async (
        name: string,
        remoteArg: string | undefined,
        o: { grantAllPermissions?: boolean },
        cmd: Command,
      ) => {
        const client = clientFor(cmd);
        const current = await client.json<{ PluginReference?: string; Enabled: boolean }>(
          'GET',
          path(name, 'json'),
        );
        if (current.Enabled) throw new InvalidParameterError('the plugin must be disabled before upgrading');
        const remote = remoteArg ?? current.PluginReference ?? '';
        const headers = registryAuthHeader(remote);
        const privileges = await privilegesOf(client, remote, headers);
        await grant(remote, privileges, Boolean(o.grantAllPermissions));
        const res = await client.stream(
          'POST',
          `${path(name, 'upgrade')}?remote=${encodeURIComponent(remote)}`,
          {
            body: privileges,
            headers,
          },
        );
        await printProgress(res);
      },
    );
}
