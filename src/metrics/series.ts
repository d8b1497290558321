/**
 * Per-plugin bookkeeping of label sets, so a removed plugin's series can be dropped from every metric (prom-client
 * removes a label set only when told it exactly).
 *
 * @module
 */

/** Per plugin, how to remove each label set it was seen with. */
export class SeriesByPlugin {
  readonly #seen = new Map<string, Map<string, () => void>>();

  track(plugin: string, key: string, remove: () => void): void {
    const keys = this.#seen.get(plugin) ?? new Map<string, () => void>();
    if (!keys.has(key)) keys.set(key, remove);
    this.#seen.set(plugin, keys);
  }

  drop(plugin: string): void {
    for (const remove of this.#seen.get(plugin)?.values() ?? []) remove();
    this.#seen.delete(plugin);
  }
}
