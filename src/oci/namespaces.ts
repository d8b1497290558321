import type { NamespaceType, Spec } from './types.ts';

/** Whether the spec asks for a new namespace of this type. */
export function hasNamespace(spec: Spec, type: NamespaceType): boolean {
  return spec.linux?.namespaces?.some((ns) => ns.type === type) ?? false;
}

/**
 * Removes the first namespace of this type, so the container shares the host's (as moby's
 * `oci.RemoveNamespace`). A spec without it is left unchanged.
 */
export function removeNamespace(spec: Spec, type: NamespaceType): void {
  const namespaces = spec.linux?.namespaces;
  if (!namespaces) return;
  const at = namespaces.findIndex((ns) => ns.type === type);
  if (at >= 0) namespaces.splice(at, 1);
}
