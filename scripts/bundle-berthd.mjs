// Bundles the daemon (dist/daemon/entry.js, as tsc emitted it) into dist/berthd/: one minified ES module for what
// berthd loads at start, plus chunks for what it imports on first use (node-tar, the metrics server). berthd's idle
// RSS and start-up CPU are mostly module records and their sources: ~520 files at start unbundled, 2 bundled
// (BENCHMARKS.md, "Memory"). Packages berth loads with requireOnUse (undici for the registry client, grpc-js,
// protobufjs, yaml) are not seen by esbuild and stay lazy node_modules requires (the plugin RPC client is node:http).
// dist/berthd/ sits at the depth of dist/daemon/, so the `../../` paths built from import.meta.url (package.json,
// vendor/, native/) still resolve.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { build } from 'esbuild';

const nodeRequire = createRequire(import.meta.url);

/**
 * A built-in's data properties, as a fresh node has them. Asked of a node of its own: a lazy getter turns into a
 * data property once read, and this script's own imports (through node's ESM facade, below) read them all.
 */
function dataPropertiesOf(id) {
  const script = `const m = process.getBuiltinModule(${JSON.stringify(id)});
    const own = typeof m === 'function' ? ['length', 'name', 'prototype'] : [];
    console.log(JSON.stringify(Object.getOwnPropertyNames(m).filter((n) => /^[A-Za-z_$][\\w$]*$/.test(n) &&
      n !== 'default' && !own.includes(n) && !Object.getOwnPropertyDescriptor(m, n).get)));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

/**
 * node's built-ins as the bundle's ES modules import them, read with `process.getBuiltinModule` instead of
 * node's ESM facade. The facade reads every export of the module when it is first imported, which runs the lazy
 * getters node puts on some of them and loads what they stand for: `crypto.webcrypto` (WebCrypto, unused by
 * berthd), `util.MIMEType`, `util.parseArgs`, `fs.Dir` (BENCHMARKS.md, "Memory": −0.25 MiB idle).
 * Here each built-in becomes a module exporting its data properties, read once. Its getters are not exported:
 * a named import of one (`import { BlockList } from 'node:net'`) fails the build, and so does a namespace's
 * (`net.BlockList` after `import * as net`: esbuild's import-is-undefined, an error below); the source reads it
 * from the default import where it is used. Dynamic imports and CommonJS packages' `require()`s are left to node.
 */
function builtinModule(id) {
  return `const m = process.getBuiltinModule(${JSON.stringify(id)});\nexport default m;\nexport const { ${dataPropertiesOf(id).join(', ')} } = m;\n`;
}

/**
 * ajv-draft-04 is imported only by oci/validate.ts (`berth plugin spec --validate`), which berthd reaches through
 * the oci/ barrel but never calls. esbuild keeps a CommonJS package it cannot prove free of side effects, so ajv,
 * fast-uri and ajv-draft-04 (~180 kB) were evaluated at every start (BENCHMARKS.md, "Memory": −0.7 MiB idle).
 * Requiring them has none; if berthd ever calls validateSpec, esbuild bundles them again.
 */
const ajvWithoutSideEffects = {
  name: 'ajv-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /^ajv-draft-04$/ }, (args) => ({
      path: nodeRequire.resolve(args.path, { paths: [args.resolveDir] }),
      sideEffects: false,
    }));
  },
};

const builtinsWithoutFacade = {
  name: 'builtins-without-esm-facade',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      args.kind === 'import-statement' && isBuiltin(args.path)
        ? { path: args.path.startsWith('node:') ? args.path : `node:${args.path}`, namespace: 'node-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: builtinModule(args.path),
      loader: 'js',
    }));
  },
};

/** Another directory (at the same depth) builds a variant to compare, e.g. `dist/before`. */
const OUT = process.argv[2] ?? 'dist/berthd';
rmSync(OUT, { recursive: true, force: true }); // no chunks left from an earlier build
await build({
  entryPoints: { berthd: 'dist/daemon/entry.js' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Whitespace and syntax minified, identifiers not: error names (`this.name = new.target.name`, pino's `type`)
  // stay the source's without esbuild's keepNames, whose `__name()` runs once per
  // function defined, often enough at start for V8 to compile it with TurboFan: the optimizing compiler's own
  // code pages (~3.4 MiB of /usr/bin/node) then stay resident in an idle berthd (61.7 → 58.0 MiB idle).
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: false,
  // Maps back to src/*.ts through tsc's maps; node reads them only with --enable-source-maps.
  sourcemap: true,
  chunkNames: 'chunk-[hash]',
  // The CommonJS packages bundled (pino, find-my-way…) require node's built-ins.
  banner: { js: "const require=process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
  plugins: [builtinsWithoutFacade, ajvWithoutSideEffects],
  // The API server's `inject` (in-process tests only) loads light-my-request, a devDependency: never bundled.
  external: ['light-my-request'],
  logLevel: 'warning',
  logOverride: { 'import-is-undefined': 'error' },
});
