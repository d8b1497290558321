/**
 * The record of volumes mounted into runs: one entry per `VolumeDriver.Mount` berth made and has not yet
 * undone. It is written atomically before each Mount and after each successful Unmount, so a berthd killed
 * during a run finds, at its next start, exactly the mounts it still owes an Unmount (a crash between the
 * write and the Mount call costs at most one Unmount of an id the driver never saw, which drivers ignore).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../host/index.ts';

/** One live mount: `ID` is the mount id sent to the driver, `Run` the run that uses it. */
export interface ActiveMount {
  readonly Name: string;
  readonly Driver: string;
  readonly ID: string;
  readonly Run: string;
}

const isActiveMount = (v: unknown): v is ActiveMount => {
  const m = v as Record<string, unknown>;
  return (
    typeof m === 'object' &&
    m !== null &&
    ['Name', 'Driver', 'ID', 'Run'].every((k) => typeof m[k] === 'string' && m[k] !== '')
  );
};

export class MountLedger {
  readonly #file: string;
  readonly #mounts = new Map<string, ActiveMount>();

  constructor(file: string) {
    this.#file = file;
  }

  /** Loads the record; a missing file is empty, unreadable entries are returned as problems. */
  load(): { problems: string[] } {
    let parsed: unknown = [];
    try {
      parsed = JSON.parse(readFileSync(this.#file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { problems: [] };
      return { problems: [`${this.#file}: ${(err as Error).message}`] };
    }
    const entries = Array.isArray(parsed) ? parsed : [];
    const problems = entries.filter((e) => !isActiveMount(e)).map((e) => `bad entry ${JSON.stringify(e)}`);
    for (const m of entries.filter(isActiveMount)) this.#mounts.set(m.ID, m);
    return { problems };
  }

  all(): ActiveMount[] {
    return [...this.#mounts.values()];
  }

  /** Runs using volume `name`. */
  users(name: string): string[] {
    return [
      ...new Set(
        this.all()
          .filter((m) => m.Name === name)
          .map((m) => m.Run),
      ),
    ];
  }

  add(m: ActiveMount): void {
    this.#mounts.set(m.ID, m);
    this.#save(() => this.#mounts.delete(m.ID));
  }

  remove(id: string): void {
    const m = this.#mounts.get(id);
    if (!m) return;
    this.#mounts.delete(id);
    this.#save(() => this.#mounts.set(id, m));
  }

  #save(undo: () => void): void {
    try {
      writeFileAtomicSync(this.#file, `${JSON.stringify(this.all())}\n`, 0o600);
    } catch (err) {
      undo();
      throw err;
    }
  }
}
