import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { InvalidParameterError } from '../errdefs/index.ts';

/** The JSON document in `file`, or on stdin when `file` is absent or `-`. */
export async function readJsonInput(file: string | undefined): Promise<unknown> {
  const fromStdin = file === undefined || file === '-';
  const source = fromStdin ? 'stdin' : file;
  let body: string;
  try {
    body = fromStdin ? await text(process.stdin) : await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidParameterError(`cannot read ${source}: ${(err as Error).message}`, { cause: err });
  }
  if (body.trim() === '') throw new InvalidParameterError(`${source} is empty: expected a JSON object`);
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new InvalidParameterError(`${source} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
