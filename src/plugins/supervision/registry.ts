/**
 * The manager's name registry: installed plugins by id, names reserved by creates in progress, and how a
 * reference (name, full id or unique id prefix) resolves to one of them.
 *
 * @module
 */
import { InvalidParameterError, NotFoundError } from '../../errdefs/index.ts';
import { isIdPrefix, normalizeName } from '../model/index.ts';
import type { Entry } from './entry.ts';

export class PluginRegistry {
  readonly #entries = new Map<string, Entry>();
  /** Names being created (reserved before the slow unpack). */
  readonly #creating = new Set<string>();

  add(e: Entry): void {
    this.#entries.set(e.state.plugin.Id, e);
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  all(): Entry[] {
    return [...this.#entries.values()];
  }

  /** Whether `e` is still installed (not removed, nor replaced). */
  isCurrent(e: Entry): boolean {
    return this.#entries.get(e.state.plugin.Id) === e;
  }

  reserve(name: string): void {
    this.#creating.add(name);
  }

  unreserve(name: string): void {
    this.#creating.delete(name);
  }

  /** Whether a plugin has (or is being created under) this name. @throws {InvalidParameterError} bad name */
  nameTaken(name: string): boolean {
    const normalized = normalizeName(name);
    return this.#creating.has(normalized) || this.all().some((e) => e.state.plugin.Name === normalized);
  }

  /** Resolves a name, full id or unique id prefix. @throws {NotFoundError}; {InvalidParameterError} ambiguous */
  resolve(ref: string): string {
    if (/^[0-9a-f]{64}$/.test(ref) && this.#entries.has(ref)) return ref;
    let name: string | undefined;
    try {
      name = normalizeName(ref);
    } catch (err) {
      if (!isIdPrefix(ref)) throw err;
    }
    if (name) {
      for (const [id, e] of this.#entries) if (e.state.plugin.Name === name) return id;
    }
    if (isIdPrefix(ref)) {
      const matches = [...this.#entries.keys()].filter((id) => id.startsWith(ref));
      if (matches.length > 1) throw new InvalidParameterError(`multiple plugins found for "${ref}"`);
      if (matches[0]) return matches[0];
    }
    throw new NotFoundError(`plugin "${ref}" not found`);
  }

  /** @throws {NotFoundError} */
  entry(ref: string): Entry {
    const e = this.#entries.get(this.resolve(ref));
    if (!e) throw new NotFoundError(`plugin "${ref}" not found`);
    return e;
  }

  /** The entry `ref` names, or undefined when it names none (unknown, ambiguous or malformed). */
  find(ref: string): Entry | undefined {
    try {
      return this.entry(ref);
    } catch {
      return undefined;
    }
  }
}
