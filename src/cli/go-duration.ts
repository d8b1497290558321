/**
 * Go's `time.ParseDuration`, which the docker CLI's duration flags (`--health-interval 10s`) use: a sequence of
 * decimal numbers with units (`1h30m`, `1.5s`, `300ms`, `10us`), a bare `0`, an optional sign.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 MICRO SIGN
  μs: 1e3, // U+03BC GREEK SMALL LETTER MU
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM = /(\d+(?:\.\d*)?|\.\d+)([a-zµμ]+)/y;

/** `10s` → 10000000000 (nanoseconds). @throws {InvalidParameterError} naming `what` and the text */
export function parseGoDuration(text: string, what: string): number {
  const bad = () =>
    new InvalidParameterError(
      `invalid duration "${text}" for ${what}: use a number with a unit (ns, us, ms, s, m, h), e.g. 10s, 1m30s or 500ms`,
    );
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  if (body === '0') return 0;
  if (body === '') throw bad();
  let ns = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < body.length) {
    const m = TERM.exec(body);
    const unit = m ? UNIT_NS[m[2] ?? ''] : undefined;
    if (!m || unit === undefined) throw bad();
    ns += Number(m[1]) * unit;
  }
  return sign * Math.round(ns);
}
