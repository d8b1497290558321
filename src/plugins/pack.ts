/**
 * Packing a plugin for a registry: its rootfs as one gzip tar layer (written to a file while both digests are
 * computed: the compressed one names the blob, the uncompressed one is the config's diff_id), its config with
 * `rootfs.diff_ids`, and a Docker schema2 manifest whose config media type marks it as a plugin.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { MEDIA_TYPES, sha256 } from '../registry/index.ts';
import type { PluginConfig } from './plugin-schema.ts';

/** What a push uploads. */
export interface PackedPlugin {
  readonly layer: {
    readonly file: string;
    readonly digest: string;
    readonly size: number;
    readonly diffId: string;
  };
  readonly config: { readonly bytes: Buffer; readonly digest: string };
  readonly manifest: { readonly bytes: Buffer; readonly digest: string; readonly mediaType: string };
}

/** A pass-through that hashes and counts what flows by. */
function meter(): Transform & { digest(): string; size(): number } {
  const hash = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return Object.assign(t, { digest: () => `sha256:${hash.digest('hex')}`, size: () => size });
}

/** Writes the layer to `<workDir>/layer.tar.gz` and builds config and manifest. */
export async function packPlugin(
  rootfs: string,
  config: PluginConfig,
  workDir: string,
): Promise<PackedPlugin> {
  const file = join(workDir, 'layer.tar.gz');
  const plain = meter();
  const compressed = meter();
  const entries = readdirSync(rootfs).sort();
  await pipeline(
    tar.c({ cwd: rootfs, portable: false, noDirRecurse: false }, entries),
    plain,
    createGzip(),
    compressed,
    createWriteStream(file, { mode: 0o600 }),
  );
  const layer = { file, digest: compressed.digest(), size: compressed.size(), diffId: plain.digest() };
  const configBytes = Buffer.from(
    JSON.stringify({ ...config, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }),
  );
  const configDigest = sha256(configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.pluginConfig, size: configBytes.length, digest: configDigest },
      layers: [{ mediaType: MEDIA_TYPES.dockerLayerGzip, size: layer.size, digest: layer.digest }],
    }),
  );
  return {
    layer,
    config: { bytes: configBytes, digest: configDigest },
    manifest: { bytes: manifestBytes, digest: sha256(manifestBytes), mediaType: MEDIA_TYPES.dockerManifest },
  };
}
