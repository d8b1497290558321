/**
 * Plugins and registries: privileges of a remote plugin, pull (install), upgrade and push. Every check that can
 * fail before data moves (reference, name, registry reachable, credentials, manifest, config, privileges) runs
 * before `onReady`, so an API caller gets a proper status code instead of an error inside a 200 stream
 * (plugins.md §8.18); only the transfer itself reports through `progress`.
 *
 * @module
 */
import {
  ConflictError,
  ForbiddenError,
  InvalidParameterError,
  UnavailableError,
} from '../../errdefs/index.ts';
import { countBulkBytes } from '../../host/index.ts';
import {
  DOCKER_HUB,
  familiarRepository,
  insecureRegistries,
  parseRemoteReference,
  type RegistryAuth,
  RegistryClient,
  type RemoteReference,
  withDefaultTag,
} from '../../registry/index.ts';
import type { Plugin, PluginConfig } from '../model/index.ts';
import { computePrivileges, normalizeName, type PluginPrivilege, privilegesMatch } from '../model/index.ts';
import { packPlugin } from '../store/index.ts';
import type { PluginManager } from '../supervision/index.ts';
import { downloadPlugin, type Progress, type RemotePlugin, resolvePlugin } from './fetch.ts';

export interface DistributionOptions {
  /** Registries reachable over plain HTTP (loopback ones always are); read at each operation, so reloadable. */
  readonly insecure?: () => (domain: string) => boolean;
  /** Told when an insecure registry is reached over plain HTTP (so the downgrade is never silent). */
  readonly onPlainHttp?: (message: string) => void;
}

/** Options shared by the streaming operations. */
export interface TransferOptions {
  readonly auth?: RegistryAuth | undefined;
  readonly progress?: Progress;
  /** Called once every up-front check passed, with the local plugin name, before the transfer starts. */
  readonly onReady?: (name: string) => void;
  /** Aborted when the caller goes away: the transfer stops and leaves nothing behind. */
  readonly signal?: AbortSignal;
}

/** What a push reports at its end (Docker's aux message). */
export interface PushResult {
  readonly Tag: string;
  readonly Digest: string;
  readonly Size: number;
}

const LOOPBACK_ONLY = insecureRegistries([]);

function describe(privileges: readonly PluginPrivilege[]): string {
  if (!privileges.length) return 'none';
  return privileges.map((p) => `${p.Name}=[${p.Value.join(' ')}]`).join(', ');
}

/** @throws {ForbiddenError} naming what the plugin asks for and what was granted */
function checkPrivileges(config: PluginConfig, granted: readonly PluginPrivilege[] | undefined): void {
  const required = computePrivileges(config);
  if (granted === undefined ? required.length === 0 : privilegesMatch(required, granted)) return;
  throw new ForbiddenError(
    `incorrect privileges: the plugin asks for ${describe(required)} but the request granted ${describe(granted ?? [])}; ` +
      'review them with GET /plugins/privileges (docker plugin install shows them) and send them back',
  );
}

export class PluginDistribution {
  readonly #manager: PluginManager;
  readonly #o: DistributionOptions;

  constructor(manager: PluginManager, options: DistributionOptions = {}) {
    this.#manager = manager;
    this.#o = options;
  }

  #plainHttp(): { onPlainHttp?: (message: string) => void } {
    return this.#o.onPlainHttp ? { onPlainHttp: this.#o.onPlainHttp } : {};
  }

  #client(
    ref: RemoteReference,
    auth: RegistryAuth | undefined,
    actions: 'pull' | 'pull,push',
  ): RegistryClient {
    const insecure = (this.#o.insecure?.() ?? LOOPBACK_ONLY)(ref.domain);
    return new RegistryClient({
      domain: ref.domain,
      path: ref.path,
      actions,
      auth,
      insecure,
      ...this.#plainHttp(),
    });
  }

  async #resolve(remote: string, auth: RegistryAuth | undefined): Promise<[RegistryClient, RemotePlugin]> {
    if (!remote)
      throw new InvalidParameterError('remote is required: the reference of the plugin in a registry');
    const ref = withDefaultTag(parseRemoteReference(remote));
    const client = this.#client(ref, auth, 'pull');
    try {
      return [client, await resolvePlugin(client, ref)];
    } catch (err) {
      if (err instanceof UnavailableError) {
        throw new UnavailableError(`error resolving plugin reference: ${err.message}`);
      }
      throw err;
    }
  }

  /**
   * Checks credentials against a registry (`docker login` → `POST /auth`); `serveraddress` names it (Docker
   * Hub when empty or one of its URLs).
   */
  async login(auth: RegistryAuth): Promise<void> {
    const address = (auth.serveraddress ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const domain = !address || /(^|\.)docker\.io$/.test(address) ? DOCKER_HUB : address;
    const insecure = (this.#o.insecure?.() ?? LOOPBACK_ONLY)(domain);
    await new RegistryClient({
      domain,
      path: '',
      actions: 'pull',
      auth,
      insecure,
      ...this.#plainHttp(),
    }).ping();
  }

  /** What the plugin at `remote` asks for. Registry errors are reported (dockerd answers `[]`). */
  async privileges(remote: string, auth?: RegistryAuth): Promise<PluginPrivilege[]> {
    const [, plugin] = await this.#resolve(remote, auth);
    return computePrivileges(plugin.config);
  }

  /**
   * Pulls `remote` and creates it as a disabled plugin named `name` (default: the remote's familiar name).
   * `privileges` must equal what the plugin asks for; omitted, only a plugin asking for nothing is accepted.
   */
  async pull(
    remote: string,
    o: TransferOptions & { name?: string; privileges?: readonly PluginPrivilege[] } = {},
  ): Promise<Plugin> {
    const ref = remote ? withDefaultTag(parseRemoteReference(remote)) : undefined;
    const name = o.name || (ref ? `${familiarRepository(ref)}:${ref.tag ?? 'latest'}` : '');
    if (name.includes('@')) throw new InvalidParameterError('cannot use digest in plugin tag');
    if (name && this.#manager.nameTaken(name)) {
      throw new ConflictError(`plugin ${normalizeName(name)} already exists`);
    }
    const [client, plugin] = await this.#resolve(remote, o.auth);
    checkPrivileges(plugin.config, o.privileges);
    o.onReady?.(normalizeName(name));
    const progress = o.progress ?? (() => {});
    if (ref) progress({ status: `${ref.tag ?? ref.digest}: Pulling from ${familiarRepository(ref)}` });
    const created = await this.#manager.create(name, {
      fetch: (staging) => downloadPlugin(client, plugin, staging, progress, o.signal),
      reference: plugin.reference,
    });
    progress({ status: `Status: Downloaded newer image for ${created.Name}` });
    return created;
  }

  /**
   * Replaces a disabled plugin with the version at `remote` (default: where it came from), checking the new
   * version's privileges; user settings are carried over where the new version still declares them.
   */
  async upgrade(
    name: string,
    remote: string,
    o: TransferOptions & { privileges?: readonly PluginPrivilege[] } = {},
  ): Promise<{ kept: string[]; dropped: string[] }> {
    const current = this.#manager.inspect(name);
    if (current.Enabled) {
      throw new ConflictError(`plugin must be disabled before upgrading: plugin ${current.Name} is enabled`);
    }
    const [client, plugin] = await this.#resolve(remote || (current.PluginReference ?? ''), o.auth);
    checkPrivileges(plugin.config, o.privileges);
    o.onReady?.(current.Name);
    const progress = o.progress ?? (() => {});
    progress({ status: `Upgrading ${current.Name} to ${plugin.reference}` });
    const merge = await this.#manager.upgrade(
      current.Id,
      {
        fetch: (staging) => downloadPlugin(client, plugin, staging, progress, o.signal),
        reference: plugin.reference,
      },
      (config) => checkPrivileges(config, o.privileges),
    );
    if (merge.kept.length) progress({ status: `Settings kept: ${merge.kept.join(', ')}` });
    if (merge.dropped.length) {
      progress({
        status: `Settings dropped (the new version does not declare them): ${merge.dropped.join(', ')}`,
      });
    }
    progress({ status: `Status: Upgraded ${current.Name} to ${plugin.reference}` });
    return merge;
  }

  /** Pushes a plugin to the registry its name points at (`localhost:5000/team/vol:1.0`; Docker Hub otherwise). */
  async push(name: string, o: TransferOptions = {}): Promise<PushResult> {
    const plugin = this.#manager.inspect(name);
    const ref = parseRemoteReference(plugin.Name);
    const tag = ref.tag ?? 'latest';
    const client = this.#client(ref, o.auth, 'pull,push');
    const work = this.#manager.store.stage();
    try {
      const packed = await packPlugin(this.#manager.store.rootfs(plugin.Id), plugin.Config, work);
      const configThere = await client.hasBlob(packed.config.digest); // reachability and credentials, up front
      o.onReady?.(plugin.Name);
      const progress = o.progress ?? (() => {});
      progress({ status: `The push refers to repository [${client.repository}]` });
      const id = packed.layer.digest.slice(7, 19);
      if (await client.hasBlob(packed.layer.digest)) progress({ status: 'Layer already exists', id });
      else {
        progress({ status: 'Pushing', id, progressDetail: { current: 0, total: packed.layer.size } });
        // Its bytes pace the scavenges that free the chunks read: a 200 MiB layer read in 64 KiB pieces left up
        // to 20 MiB of them for V8 to collect at once.
        const { file, size } = packed.layer;
        await client.pushBlob(packed.layer.digest, { file, size, onRead: countBulkBytes });
        progress({ status: 'Pushed', id, progressDetail: {} });
      }
      if (!configThere) await client.pushBlob(packed.config.digest, packed.config.bytes);
      const digest = await client.pushManifest(tag, packed.manifest.mediaType, packed.manifest.bytes);
      const size = packed.manifest.bytes.length;
      progress({ status: `${tag}: digest: ${digest} size: ${size}` });
      const result = { Tag: tag, Digest: digest, Size: size };
      progress({ aux: result });
      return result;
    } finally {
      this.#manager.store.discard(work);
    }
  }
}
