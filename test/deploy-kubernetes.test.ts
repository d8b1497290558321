/**
 * deploy/kubernetes/ checked without a cluster: every manifest validates against the JSON schemas
 * kubernetes-models generates from Kubernetes' official OpenAPI spec (types, required fields, enums), and, since
 * those schemas allow unknown keys, also type-checks as an object literal of the TypeScript interfaces generated
 * from the same spec (excess-property checks catch a misspelt key anywhere); the ConfigMap's daemon.json
 * is a valid berthd configuration; runtimeclasses.yaml is exactly what `berth runtime export --format
 * runtimeclass --include-unavailable` renders from it (UPDATE_GOLDEN=1 rewrites it); the DaemonSet mounts what
 * its flags name.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { RuntimeClass } from 'kubernetes-models/node.k8s.io/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { exportRuntimes } from '../src/cluster/index.ts';
import { mergeDaemonConfig } from '../src/daemon/config.ts';
import { RuntimeManager } from '../src/runtimes/index.ts';

const DIR = new URL('../deploy/kubernetes/', import.meta.url).pathname;
// biome-ignore lint/suspicious/noExplicitAny: manifests are checked by the schema validators below
type Manifest = Record<string, any>;
const docs = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Manifest);
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  DaemonSet,
  ConfigMap,
  RuntimeClass,
};

const scratch = mkdtempSync(join(tmpdir(), 'berth-deploy-'));
const INTERFACES: Record<string, string> = {
  DaemonSet: 'kubernetes-models/apps/v1/DaemonSet',
  ConfigMap: 'kubernetes-models/v1/ConfigMap',
  RuntimeClass: 'kubernetes-models/node.k8s.io/v1/RuntimeClass',
};

/** TypeScript's diagnostics for `const m: I<Kind> = <manifest>` (one program for all manifests). */
function typeErrors(manifests: readonly Manifest[]): string[] {
  // Inside the repository, so that `kubernetes-models` resolves from node_modules.
  const cache = new URL('../node_modules/.cache/', import.meta.url).pathname;
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'berth-deploy-'));
  try {
    const files = manifests.map((m, i) => {
      const file = join(dir, `m${i}.ts`);
      const source = `import type { I${m.kind} } from '${INTERFACES[m.kind]}';\nexport const m: I${m.kind} = ${JSON.stringify(m, null, 1)};\n`;
      writeFileSync(file, source);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
    });
    return ts
      .getPreEmitDiagnostics(program)
      .map(
        (d) =>
          `${d.file ? `${d.file.fileName.slice(dir.length + 1)}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/kubernetes', () => {
  const files = ['configmap.yaml', 'daemonset.yaml', 'runtimeclasses.yaml'];

  for (const file of files) {
    it(`${file} validates against the Kubernetes schemas`, () => {
      const manifests = docs(file);
      assert.ok(manifests.length > 0);
      for (const m of manifests) {
        const Model = MODELS[m.kind];
        assert.ok(Model, `${file}: unexpected kind ${m.kind}`);
        assert.doesNotThrow(() => new Model(m as never).validate(), `${file}: ${m.kind} ${m.metadata?.name}`);
      }
    });
  }

  it("every manifest type-checks against kubernetes-models' interfaces (no unknown keys)", () => {
    // One TypeScript program (seconds) for all: the shipped manifests, then one with a misspelt key.
    const shipped = files.flatMap(docs);
    const typo = docs('daemonset.yaml')[0] as Manifest;
    typo.spec.template.spec.containers[0].imagePullPolicee = 'Always';
    const errors = typeErrors([...shipped, typo]);
    const last = `m${shipped.length}.ts: `;
    assert.deepEqual(
      errors.filter((e) => !e.startsWith(last)),
      [],
    );
    assert.match(errors.join('\n'), /imagePullPolicee.*does not exist in type 'IContainer'/);
  });

  it('the schema checks are real: a broken manifest is refused', () => {
    const ds = docs('daemonset.yaml')[0] as Manifest;
    ds.spec.template.spec.containers[0].volumeMounts[0].mountPath = 42;
    assert.throws(() => new DaemonSet(ds as never).validate(), /mountPath must be string/);
    assert.throws(() => new RuntimeClass({ metadata: { name: 'x' } } as never).validate(), /handler/);
  });

  const configMap = docs('configmap.yaml')[0] as Manifest;
  const daemonJson = JSON.parse(configMap.data['daemon.json']);

  it("the ConfigMap's daemon.json is a valid berthd configuration", () => {
    assert.doesNotThrow(() => mergeDaemonConfig({}, daemonJson));
  });

  it('runtimeclasses.yaml is what berth renders from the ConfigMap', async () => {
    const manager = new RuntimeManager({
      host: {
        execRoot: join(scratch, 'exec'),
        wrapperDir: join(scratch, 'w'),
        noPivotRoot: false,
        pathEnv: '',
      },
      probe: { commandTimeoutMs: 1000 },
    });
    const { set } = await manager.reload(mergeDaemonConfig({}, daemonJson).runtimes);
    const rendered = exportRuntimes(set, { format: 'runtimeclass', includeUnavailable: true }).content;
    const file = join(DIR, 'runtimeclasses.yaml');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, rendered);
    assert.equal(readFileSync(file, 'utf8'), rendered);
    assert.deepEqual(
      docs('runtimeclasses.yaml').map((m) => m.handler),
      ['crun', 'gvisor', 'kata-qemu', 'runc', 'runc-debug'],
    );
  });

  it('the DaemonSet mounts what its flags name, at the same host paths', () => {
    const ds = docs('daemonset.yaml')[0] as Manifest;
    const pod = ds.spec.template.spec;
    const [container] = pod.containers;
    const flags: Record<string, string> = Object.fromEntries(
      (container.args as string[]).map((a) => a.replace(/^--/, '').split('=') as [string, string]),
    );
    const mounts = container.volumeMounts as { name: string; mountPath: string }[];
    const volume = (path: string) => {
      const m = mounts.find((v) => path === v.mountPath || path.startsWith(`${v.mountPath}/`));
      return m && pod.volumes.find((v: Manifest) => v.name === m.name);
    };
    assert.equal(volume(flags['config-file'] ?? '')?.configMap?.name, configMap.metadata.name);
    for (const flag of ['data-root', 'exec-root', 'sync-cri', 'sync-cri-config']) {
      const v = volume(flags[flag] ?? '');
      assert.ok(v?.hostPath, `${flag} ${flags[flag]} is on a hostPath volume`);
      const mount = mounts.find((m) => m.name === v.name);
      assert.equal(v.hostPath.path, mount?.mountPath, `${flag}: same path on the host and in the pod`);
    }
    assert.equal(container.securityContext.privileged, true);
  });
});
