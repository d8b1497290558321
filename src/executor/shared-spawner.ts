/**
 * The process's one berth-spawner (spawner.ts): started on first use, replaced when it dies, and for berthd given
 * a rendezvous socket in the exec root so that it outlives berthd with the plugins ({@link useRendezvous}).
 *
 * @module
 */
import { accessSync, constants, rmSync, statSync } from 'node:fs';
import { PROTOCOL_VERSION, Spawner } from './spawner.ts';

/** Where setup builds the helper: `native/berth-spawner` at the package root (from src/ or dist/ alike). */
const HELPER = new URL('../../native/berth-spawner', import.meta.url).pathname;

let shared: Spawner | undefined;
let looked = false;
let rendezvous: string | undefined;

/** The helper to run: `BERTHD_SPAWNER`, else the one setup builds; undefined when there is none or it is off. */
export function helperBinary(): string | undefined {
  const setting = process.env.BERTHD_SPAWNER;
  if (setting === 'off') return undefined;
  const binary = setting || HELPER;
  try {
    accessSync(binary, constants.X_OK);
    return binary;
  } catch {
    return undefined;
  }
}

/** The process's spawner, started on first use; undefined when the helper is not built or is turned off. */
export function sharedSpawner(): Spawner | undefined {
  if (shared && !shared.dead) return shared;
  if (looked) return undefined;
  looked = true;
  const binary = helperBinary();
  if (binary === undefined) return undefined;
  shared = Spawner.start(binary, rendezvous);
  looked = false; // a helper that dies is replaced at the next use
  return shared;
}

/**
 * Closes the process's spawner, if one was started (see {@link Spawner.close}). A spawn after it starts a helper
 * without the rendezvous: one with it would take the socket from the helper that keeps the plugins.
 */
export function closeSharedSpawner(): void {
  rendezvous = undefined;
  shared?.close();
}

/** The survivors of the process's spawner nobody claimed: their output is dropped (see {@link Spawner.releaseUnclaimed}). */
export function releaseUnclaimedSurvivors(): void {
  shared?.releaseUnclaimed();
}

/** What {@link useRendezvous} found. */
export type Rendezvous =
  | { readonly kind: 'attached'; readonly survivors: number }
  /** `replaced`: why the helper found there was not taken over (it speaks another protocol version). */
  | { readonly kind: 'new'; readonly replaced?: string }
  | { readonly kind: 'unavailable'; readonly why: string };

/**
 * berthd's start: from now on the helper outlives this process at `path` (a unix socket in the exec root), and a
 * helper that a previous berthd left there is taken over with the children it kept running. Call it before
 * anything is spawned.
 */
export async function useRendezvous(path: string): Promise<Rendezvous> {
  if (helperBinary() === undefined)
    return { kind: 'unavailable', why: 'berth-spawner is not built or BERTHD_SPAWNER=off' };
  // sun_path holds 108 bytes with the NUL: a longer exec root cannot have the socket.
  if (Buffer.byteLength(path) > 107)
    return { kind: 'unavailable', why: `the socket path ${path} is longer than 107 bytes` };
  const kind = fileKind(path);
  if (kind !== 'socket' && kind !== 'none')
    return { kind: 'unavailable', why: `${path} is a ${kind}, not berth-spawner's socket: remove it` };
  let replaced: string | undefined;
  const found =
    kind === 'socket'
      ? await Spawner.attach(path, undefined, (version) => {
          replaced = `the berth-spawner there speaks protocol version ${version}, this berthd speaks ${PROTOCOL_VERSION}`;
        })
      : undefined;
  shared?.close();
  if (found) {
    rendezvous = path;
    shared = found;
    return { kind: 'attached', survivors: found.survivors().size };
  }
  // Nobody answers there: a socket file left by a helper that died. A new helper binds the path at its start; if it
  // cannot, it runs without one, which live restore must not take for a rendezvous.
  rmSync(path, { force: true });
  rendezvous = path;
  const started = sharedSpawner();
  if (started && (await listening(path))) return { kind: 'new', ...(replaced ? { replaced } : {}) };
  rendezvous = undefined;
  started?.close();
  return { kind: 'unavailable', why: `berth-spawner could not listen on ${path}` };
}

function fileKind(path: string): 'none' | 'socket' | 'directory' | 'file' {
  try {
    const st = statSync(path);
    return st.isSocket() ? 'socket' : st.isDirectory() ? 'directory' : 'file';
  } catch {
    return 'none';
  }
}

/** Whether a unix socket appears at `path` within a second. */
async function listening(path: string): Promise<boolean> {
  for (const deadline = Date.now() + 1000; Date.now() < deadline; ) {
    try {
      if (statSync(path).isSocket()) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}
