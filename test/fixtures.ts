/** Paths and loaders for test fixtures, shared by unit and integration tests. */
import { readFileSync } from 'node:fs';

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
export const SCHEMA_DIR = new URL('../vendor/oci-runtime-spec-schema/', import.meta.url).pathname;

export function readFixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, 'utf8');
}

export function readJsonFixture<T = unknown>(name: string): T {
  return JSON.parse(readFixture(name)) as T;
}
