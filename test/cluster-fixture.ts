// Shared by the cluster tests: a real RuntimeManager over fake runtime binaries that answer --version and
// features without running containers, so exports are deterministic and fast.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeManager, type RuntimeSet } from '../src/runtimes/index.ts';

export interface Fixture {
  readonly dir: string;
  readonly bin: string;
  manager(): RuntimeManager;
  load(runtimes: Record<string, unknown>, defaultRuntime?: string): Promise<RuntimeSet>;
  cleanup(): void;
}

export function fixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cluster-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const versions = {
    'fake-oci': 'fake 1.0',
    'containerd-shim-fake-v2': 'fake 1.0',
    'fake-runsc': 'runsc version release-20221219.0',
  };
  for (const [name, version] of Object.entries(versions)) {
    const path = join(bin, name);
    writeFileSync(
      path,
      `#!/bin/sh\ncase "$1" in --version) echo "${version}";; features) echo "{}";; esac\n`,
    );
    chmodSync(path, 0o755);
  }
  let current: RuntimeManager | undefined;
  const manager = () =>
    new RuntimeManager({
      host: {
        execRoot: join(dir, 'exec'),
        wrapperDir: join(dir, 'wrappers'),
        noPivotRoot: false,
        pathEnv: `${bin}:${process.env.PATH ?? ''}`,
      },
      probe: { commandTimeoutMs: 2000 },
    });
  return {
    dir,
    bin,
    manager,
    async load(runtimes, defaultRuntime) {
      current ??= manager();
      const { set } = await current.reload({ runtimes, ...(defaultRuntime ? { defaultRuntime } : {}) });
      return set;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
