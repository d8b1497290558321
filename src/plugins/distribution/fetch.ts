/**
 * Fetching a plugin from a registry: resolve the manifest (Docker schema2 or OCI, through a list or index when
 * the registry serves one), read and validate the plugin config blob, then stream each layer, digest-checked,
 * into a staging rootfs with the same safety rules as a created plugin.
 *
 * @module
 */
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, SystemError } from '../../errdefs/index.ts';
import {
  MEDIA_TYPES,
  qualifiedReference,
  type RegistryClient,
  type RemoteReference,
} from '../../registry/index.ts';
import type { PluginConfig } from '../model/index.ts';
import { decodeManifest, validateManifest } from '../model/index.ts';
import { DEFAULT_UNPACK_LIMITS, extractLayer, type UnpackedContext } from '../store/index.ts';

/** One line of Docker's JSON progress stream. */
export interface ProgressMessage {
  readonly status?: string;
  readonly id?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
  readonly aux?: unknown;
}

export type Progress = (message: ProgressMessage) => void;

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly os?: string; readonly architecture?: string };
}

/** A plugin found in a registry: its manifest and validated config, layers not yet fetched. */
export interface RemotePlugin {
  readonly reference: string;
  readonly manifestDigest: string;
  readonly layers: readonly Descriptor[];
  /** The config blob as JSON (stored as the manifest of the plugin). */
  readonly rawConfig: unknown;
  readonly config: PluginConfig;
}

const ACCEPT = [
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociIndex,
];
const LAYER_TYPES = new Set<string>([
  MEDIA_TYPES.dockerLayerGzip,
  MEDIA_TYPES.dockerLayer,
  MEDIA_TYPES.ociLayerGzip,
  MEDIA_TYPES.ociLayer,
]);
const MAX_CONFIG_BYTES = 1 << 20;
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidParameterError(`${what} is not a JSON object`);
}

function descriptor(v: unknown, what: string): Descriptor {
  const d = v as Partial<Descriptor> | undefined;
  if (typeof d?.digest !== 'string' || typeof d.size !== 'number' || typeof d.mediaType !== 'string') {
    throw new InvalidParameterError(`${what} needs mediaType, digest and size`);
  }
  return d as Descriptor;
}

/** From a list or index, the entry for this host's platform (or the only entry). */
function pickFromIndex(index: Record<string, unknown>, ref: string): Descriptor {
  const entries = (Array.isArray(index.manifests) ? index.manifests : []).map((m, i) =>
    descriptor(m, `manifest list entry ${i} of ${ref}`),
  );
  const arch = GO_ARCH[process.arch] ?? process.arch;
  const match =
    entries.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ??
    (entries.length === 1 ? entries[0] : undefined);
  if (!match) {
    throw new InvalidParameterError(`${ref} has no manifest for linux/${arch} (${entries.length} entries)`);
  }
  return match;
}

async function readBlob(client: RegistryClient, d: Descriptor, max: number): Promise<Buffer> {
  if (d.size > max) throw new InvalidParameterError(`blob ${d.digest} is ${d.size} bytes, more than ${max}`);
  const chunks: Buffer[] = [];
  for await (const chunk of await client.blob(d.digest, d.size)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Resolves `ref` to a plugin: manifest and config, validated. Nothing is written.
 * @throws {InvalidParameterError} when the reference names an image or a malformed plugin; registry errors
 */
export async function resolvePlugin(client: RegistryClient, ref: RemoteReference): Promise<RemotePlugin> {
  const name = qualifiedReference(ref);
  let m = await client.manifest(ref.digest ?? ref.tag ?? 'latest', ACCEPT);
  let manifest = parseJson(m.bytes, `the manifest of ${name}`);
  const type = m.mediaType || String(manifest.mediaType ?? '');
  if (type === MEDIA_TYPES.dockerList || type === MEDIA_TYPES.ociIndex || Array.isArray(manifest.manifests)) {
    const entry = pickFromIndex(manifest, name);
    m = await client.manifest(entry.digest, ACCEPT);
    manifest = parseJson(m.bytes, `the manifest of ${name}`);
  }
  if (!manifest.config)
    throw new InvalidParameterError(`fetched plugin image but plugin config is missing (${name})`);
  const configDesc = descriptor(manifest.config, `the config of ${name}`);
  if (configDesc.mediaType !== MEDIA_TYPES.pluginConfig) {
    throw new InvalidParameterError(
      `${name} is not a plugin: its config is ${configDesc.mediaType}, a plugin's is ${MEDIA_TYPES.pluginConfig} (is it a container image?)`,
    );
  }
  const layers = (Array.isArray(manifest.layers) ? manifest.layers : []).map((l, i) =>
    descriptor(l, `layer ${i} of ${name}`),
  );
  if (!layers.length) throw new InvalidParameterError(`${name} has no layers: a plugin needs its rootfs`);
  for (const l of layers) {
    if (!LAYER_TYPES.has(l.mediaType))
      throw new InvalidParameterError(
        `layer ${l.digest} of ${name} has unsupported media type ${l.mediaType}`,
      );
  }
  const rawConfig = parseJson(
    await readBlob(client, configDesc, MAX_CONFIG_BYTES),
    `the plugin config of ${name}`,
  );
  const config = decodeManifest(rawConfig);
  validateManifest(config);
  return { reference: name, manifestDigest: m.digest, layers, rawConfig, config };
}

const cancelled = (signal: AbortSignal) =>
  new SystemError(
    `download cancelled: ${signal.reason instanceof Error ? signal.reason.message : 'aborted'}`,
  );

/** Counts bytes through a stream and reports Docker-style download progress (at most every 256 KiB). */
function progressMeter(d: Descriptor, progress: Progress, signal: AbortSignal | undefined): Transform {
  let current = 0;
  let reported = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (signal?.aborted) {
        done(cancelled(signal));
        return;
      }
      current += chunk.length;
      if (current - reported >= 256 * 1024) {
        reported = current;
        progress({ status: 'Downloading', id: short(d.digest), progressDetail: { current, total: d.size } });
      }
      done(null, chunk);
    },
  });
}

/**
 * Downloads and extracts the layers of `remote` into `<staging>/rootfs`; returns the context for the manager.
 * An aborted `signal` (the client went away) stops it between chunks.
 * @throws {InvalidParameterError} for a layer that fails verification or the unpack rules
 */
export async function downloadPlugin(
  client: RegistryClient,
  remote: RemotePlugin,
  staging: string,
  progress: Progress,
  signal?: AbortSignal,
  limits = DEFAULT_UNPACK_LIMITS,
): Promise<UnpackedContext> {
  const rootfs = join(staging, 'rootfs');
  for (const layer of remote.layers) {
    progress({ status: 'Pulling fs layer', id: short(layer.digest), progressDetail: {} });
  }
  for (const layer of remote.layers) {
    if (signal?.aborted) throw cancelled(signal);
    const body = await client.blob(layer.digest, layer.size);
    const metered = progressMeter(layer, progress, signal);
    pipeline(body, metered).catch(() => {}); // an error reaches extractLayer through `metered`
    await extractLayer(metered, rootfs, limits);
    progress({ status: 'Download complete', id: short(layer.digest), progressDetail: {} });
  }
  progress({ status: `Digest: ${remote.manifestDigest}` });
  return { manifest: remote.rawConfig, rootfs };
}
