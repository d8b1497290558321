/**
 * Pieces of `JSON.stringify(defaultSpec())`, serialised once at load, for serialisers that write a spec made of
 * Docker's defaults plus a few values of their own (plugins/spec/spec-json.ts). They are cut from defaultSpec()
 * itself, so they cannot drift from it.
 *
 * @module
 */
import { DEFAULT_CAPABILITIES, defaultSpec } from './default-spec.ts';
import type { Mount, NamespaceType } from './types.ts';

/** The items of a JSON array, without its brackets: `"a","b"`. */
export const jsonItems = (items: readonly unknown[]): string => JSON.stringify(items).slice(1, -1);

/** A default entry: the key the serialiser decides on and its JSON, serialised once. */
export interface JsonPiece<K> {
  readonly key: K;
  readonly json: string;
}

const base = defaultSpec();
const linux = base.linux ?? {};
const piece = <K>(key: K, value: unknown): JsonPiece<K> => ({ key, json: JSON.stringify(value) });

/** `"1.0.2-dev"`, quoted. */
export const OCI_VERSION_JSON = JSON.stringify(base.ociVersion);
/** Docker's default capability set, items only (the same list for bounding, effective and permitted). */
export const DEFAULT_CAPABILITIES_JSON = jsonItems(DEFAULT_CAPABILITIES);
/** Each default mount keyed by its destination, in order. */
export const DEFAULT_MOUNTS_JSON: readonly JsonPiece<string>[] = (base.mounts ?? []).map((m: Mount) =>
  piece(m.destination, m),
);
/** The default device cgroup rules, items only. */
export const DEFAULT_DEVICE_RULES_JSON = jsonItems(linux.resources?.devices ?? []);
/** Each default namespace keyed by its type, in order. */
export const DEFAULT_NAMESPACES_JSON: readonly JsonPiece<NamespaceType>[] = (linux.namespaces ?? []).map(
  (n) => piece(n.type, n),
);
/** `"maskedPaths":[…],"readonlyPaths":[…]`, the tail of the default `linux` object. */
export const MASKED_AND_READONLY_PATHS_JSON = `"maskedPaths":${JSON.stringify(linux.maskedPaths)},"readonlyPaths":${JSON.stringify(linux.readonlyPaths)}`;
