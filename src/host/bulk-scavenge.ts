/**
 * Frees the chunks of bulk transfers (a plugin context uploaded, a registry layer downloaded) while the transfer
 * runs, not tens of MiB later. Each socket read becomes a Buffer of up to 64 KiB whose bytes live outside V8's heap
 * and are freed only when a collection finds its small Buffer object dead. V8 starts a scavenge when the young
 * generation's 1 MiB (bin/berthd.js keeps it at that) fills with objects, which a transfer's few small objects per
 * chunk take hundreds of chunks to do, and counts the outside bytes only toward a full collection, 64 MiB on. So
 * dead chunks piled up to 10–16 MiB at a time in a 200 MiB create, and malloc kept the pages they had taken.
 * One scavenge per MiB read, the young generation's own size, frees them as if they lived in it: berthd's peak RSS
 * in a 200 MiB create and install 74–75 instead of 90–99 MiB, for a few per cent more CPU (BENCHMARKS.md, "Bulk
 * data"); a scavenge of a young generation this small pauses the loop for well under a millisecond.
 *
 * @module
 */
import { type GcFunction, v8Gc } from './v8-gc.ts';

/** Bulk bytes read between two scavenges: one young generation's worth. */
export const SCAVENGE_BYTES = 1024 * 1024;

/** Counts bulk bytes and runs a scavenge each time `every` bytes have gone by. */
export class BulkScavenger {
  #pending = 0;
  #broken = false;

  constructor(
    private readonly every: number,
    private readonly gc: () => GcFunction,
  ) {}

  count(bytes: number): void {
    this.#pending += bytes;
    if (this.#pending < this.every || this.#broken) return;
    this.#pending = 0;
    try {
      this.gc()({ type: 'minor' });
    } catch {
      // Called from inside stream callbacks, where a throw would end the process, not the transfer: a node whose
      // `gc` cannot be had (or fails) transfers as it did before, with V8's own scavenges.
      this.#broken = true;
    }
  }
}

/** The process's scavenger: every transfer counts toward the same scavenges, as the garbage is the process's. */
const processScavenger = new BulkScavenger(SCAVENGE_BYTES, v8Gc);

/** Counts `bytes` of bulk data just read toward the next scavenge. */
export function countBulkBytes(bytes: number): void {
  processScavenger.count(bytes);
}
