/**
 * The volume → driver mapping on disk (`<data-root>/volumes/volumes.json`). A file that cannot be read, or that holds
 * something else than volume records, is never overwritten: it is renamed aside (its valid records are still
 * served) and reported; if it cannot even be moved, the mapping must stay read-only until an operator fixes it.
 *
 * @module
 */
import { readFileSync, renameSync } from 'node:fs';
import { errnoOf, errnoText, fromErrno } from '../host/index.ts';

/** What berth records per volume. */
export interface VolumeRecord {
  readonly Name: string;
  readonly Driver: string;
  readonly Labels: Record<string, string>;
  readonly Options: Record<string, string>;
  readonly CreatedAt: string;
  readonly Scope: 'local' | 'global';
}

const isStringMap = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');

function isVolumeRecord(v: unknown): v is VolumeRecord {
  const r = v as Partial<VolumeRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.Name === 'string' &&
    typeof r.Driver === 'string' &&
    isStringMap(r.Labels ?? {}) &&
    isStringMap(r.Options ?? {})
  );
}

/** What loading the mapping found. */
export interface VolumeFile {
  readonly records: VolumeRecord[];
  /** What was wrong with the file and where it was kept, for the log and `/info`. */
  readonly warning?: string;
  /** Set when the bad file could not be moved aside: saving would overwrite it. */
  readonly readOnly?: string;
}

function parseRecords(file: string): { records: VolumeRecord[]; problem?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { records: [] };
    return { records: [], problem: fromErrno(err, `cannot read ${file}`).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { records: [], problem: `${file} is not valid JSON: ${(err as Error).message}` };
  }
  if (!Array.isArray(parsed)) return { records: [], problem: `${file} is not a list of volumes` };
  const records = parsed.filter(isVolumeRecord);
  const bad = parsed.length - records.length;
  return bad ? { records, problem: `${bad} entries of ${file} are not volumes` } : { records };
}

/** Reads the mapping; a bad file is moved out of the way of the next save, and the warning says where it is. */
export function readVolumeFile(file: string): VolumeFile {
  const { records, problem } = parseRecords(file);
  if (!problem) return { records };
  const aside = `${file}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(file, aside);
    return {
      records,
      warning: `${problem}; kept as ${aside} (volumes only listed there are not served: fix it and merge it back while berthd is stopped)`,
    };
  } catch (err) {
    const readOnly = `${problem}, and it could not be moved aside (${errnoText(err)}): volumes cannot be created or removed until it is fixed or moved away`;
    return { records, warning: readOnly, readOnly };
  }
}
