/**
 * `-v` / `binds` entries as `docker run -v` reads them (moby `volume/mounts/linux_parser.go`, reduced to what
 * berth runs): `NAME:/dest[:mode]` uses a named volume, `/host/dir:/dest[:mode]` binds a host directory, and
 * the mode is `ro` or `rw`. Pure, so the table test covers every form.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

export type Bind =
  | {
      readonly kind: 'volume';
      readonly name: string;
      readonly destination: string;
      readonly readonly: boolean;
    }
  | {
      readonly kind: 'host';
      readonly source: string;
      readonly destination: string;
      readonly readonly: boolean;
    };

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** @throws {InvalidParameterError} naming the entry and the form it should have */
export function parseBind(spec: string): Bind {
  const parts = spec.split(':');
  const bad = (why: string) =>
    new InvalidParameterError(
      `invalid volume specification "${spec}": ${why} (use NAME:/path[:ro] or /host/dir:/path[:ro])`,
    );
  if (parts.length === 1) throw bad('anonymous volumes are not supported, name the volume');
  if (parts.length > 3) throw bad('too many colons');
  const [source = '', destination = '', mode] = parts;
  if (!destination.startsWith('/')) throw bad('the container path must be absolute');
  if (destination === '/') throw bad('the container path cannot be /');
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw')
    throw bad(`unsupported mode "${mode}": berth accepts ro or rw`);
  const readonly = mode === 'ro';
  if (source.startsWith('/')) return { kind: 'host', source, destination, readonly };
  if (!VOLUME_NAME.test(source))
    throw bad(`"${source}" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)`);
  return { kind: 'volume', name: source, destination, readonly };
}

/** The OCI mount of a bind: Docker's options for volumes and binds (`rbind`, `rprivate`, plus `ro`). */
export function bindMount(
  source: string,
  b: Bind,
): { destination: string; type: string; source: string; options: string[] } {
  return {
    destination: b.destination,
    type: 'bind',
    source,
    options: ['rbind', 'rprivate', ...(b.readonly ? ['ro'] : ['rw'])],
  };
}
