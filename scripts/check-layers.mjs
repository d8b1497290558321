// Enforces berth's import direction (docs/ARCHITECTURE.md): a folder under src/ may import only the folders
// listed for it, and only through their index.ts. Pure layers may not import node:* at all. Dynamic import()
// follows the same rules; no file may take part in an import cycle; api/ may not import the concrete classes of
// the services behind its ports; nothing inside src/ imports the root barrel src/index.ts (it is the library's
// face, and pulls in everything). Usage: node scripts/check-layers.mjs [SRC_DIR] (default: this repo's src/).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const BASE = ['errdefs', 'gojson'];
const ALLOWED = {
  errdefs: [],
  gojson: [],
  oci: [...BASE],
  host: [...BASE, 'oci'],
  registry: [...BASE],
  grpc: [...BASE],
  containerd: [...BASE, 'grpc'],
  executor: [...BASE, 'oci', 'host', 'grpc', 'containerd'],
  runtimes: [...BASE, 'oci', 'host', 'executor'],
  cluster: [...BASE, 'host', 'runtimes'],
  plugins: [...BASE, 'oci', 'host', 'executor', 'runtimes', 'registry'],
  volumes: [...BASE, 'host', 'plugins'],
  logdriver: [...BASE, 'host', 'plugins'],
  api: [...BASE, 'oci', 'host', 'executor', 'runtimes', 'registry', 'plugins', 'volumes', 'cluster'],
  daemon: [
    ...BASE,
    'oci',
    'host',
    'executor',
    'runtimes',
    'registry',
    'plugins',
    'volumes',
    'logdriver',
    'api',
    'containerd',
    'cluster',
    'metrics',
  ],
  // Metrics implement the observers lower layers declare, and read their views: types only, no services.
  metrics: [...BASE, 'api', 'plugins', 'runtimes'],
  client: [...BASE],
  // The plugin SDK (`berth/plugin`) runs inside plugins: nothing of berth, only node:* and SDK_PACKAGES.
  sdk: [],
  cli: ['client', ...BASE, 'oci', 'host', 'registry', 'plugins', 'api', 'volumes', 'cluster'],
};
/** Layers another may import only with `import type` (erased at build: no server code in the CLI). */
const TYPE_ONLY = { cli: ['api', 'volumes'], metrics: ['api', 'plugins', 'runtimes'] };
/** api/ reaches these layers through its own ports (api/ports.ts): none of their classes, not even as types. */
const PORTED = { api: ['plugins', 'runtimes', 'volumes'] };
const PURE = new Set(['errdefs', 'gojson', 'oci']);
/** npm packages the SDK may import (bundled into every plugin by `berth plugin build`). */
const SDK_PACKAGES = new Set(['protobufjs']);

const STATIC_IMPORT = /^(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

const layerOf = (file) => (file.includes('/') ? file.split('/')[0] : '.');

/** Every import of a file: its specifier, whether it is type-only, whether dynamic, the names it takes. */
function importsOf(text) {
  const found = [];
  for (const m of text.matchAll(STATIC_IMPORT)) {
    const statement = m[0];
    const names = /\{([^}]*)\}/.exec(statement)?.[1] ?? '';
    found.push({
      spec: m[1] ?? m[2],
      typeOnly: /^(?:import|export)\s+type\b/.test(statement),
      dynamic: false,
      names: names
        .split(',')
        .map(
          (n) =>
            n
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+/)[0],
        )
        .filter(Boolean),
    });
  }
  // A dynamic import loads code at run time: checked as a value import.
  for (const m of text.matchAll(DYNAMIC_IMPORT))
    found.push({ spec: m[1], typeOnly: false, dynamic: true, names: [] });
  return found;
}

/** Class names exported by the files of each layer (what api/ may not import from the layers it ports). */
function classesByLayer(texts) {
  const out = new Map();
  for (const [file, text] of texts) {
    const layer = layerOf(file);
    for (const m of text.matchAll(/^export\s+(?:abstract\s+)?class\s+(\w+)/gm)) {
      if (!out.has(layer)) out.set(layer, new Set());
      out.get(layer).add(m[1]);
    }
  }
  return out;
}

/** Problems of one import of `file`; relative targets are also added to the import graph. */
function checkImport(file, imp, ctx) {
  const layer = layerOf(file);
  const { spec } = imp;
  const how = imp.dynamic ? `import(${spec})` : spec;
  const problems = [];
  if (spec.startsWith('node:') && PURE.has(layer)) problems.push(`pure layer "${layer}" imports ${how}`);
  if (layer === 'sdk' && !spec.startsWith('.') && !spec.startsWith('node:') && !SDK_PACKAGES.has(spec))
    problems.push(`the plugin SDK may import only node:* and ${[...SDK_PACKAGES].join(', ')} (${how})`);
  if (!spec.startsWith('.')) return problems;
  const target = relative(ctx.src, join(ctx.src, dirname(file), spec));
  if (target.startsWith('..')) return problems; // vendor/ data, package.json
  if (ctx.texts.has(target)) {
    ctx.graph.get(file).push(target);
    if (!imp.typeOnly) ctx.valueEdges.add(`${file}\0${target}`);
  }
  const targetLayer = layerOf(target);
  if (targetLayer === layer) return problems;
  if (targetLayer === '.')
    problems.push(
      `imports the root barrel src/index.ts (${how}): import each layer through its own index.ts`,
    );
  else if (!ALLOWED[layer]?.includes(targetLayer))
    problems.push(`"${layer}" may not import "${targetLayer}" (${how})`);
  else if (TYPE_ONLY[layer]?.includes(targetLayer) && !imp.typeOnly)
    problems.push(`"${layer}" may import only types from "${targetLayer}" (use import type): ${how}`);
  else if (!target.endsWith('index.ts'))
    problems.push(`import "${targetLayer}" through its index.ts, not ${how}`);
  if (PORTED[layer]?.includes(targetLayer)) {
    const classes = ctx.classes.get(targetLayer) ?? new Set();
    for (const name of imp.names.filter((n) => classes.has(n)))
      problems.push(
        `"${layer}" may not import the concrete class ${name} of "${targetLayer}": declare the calls it needs as a port in api/ports.ts`,
      );
  }
  return problems;
}

/** Every import cycle, one per strongly connected component (Tarjan), as `a → b → a`. */
function cycles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v).includes(v)) found.push(cyclePath(graph, new Set(component), v));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** One concrete cycle through `start` inside its component (breadth-first, so the shortest). */
function cyclePath(graph, component, start) {
  const from = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v)) {
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = from.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (component.has(w) && !from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

export function checkLayers(src) {
  const files = readdirSync(src, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const texts = new Map(files.map((f) => [f, readFileSync(join(src, f), 'utf8')]));
  const ctx = {
    src,
    texts,
    graph: new Map(files.map((f) => [f, []])),
    valueEdges: new Set(),
    classes: classesByLayer(texts),
  };
  const problems = [];
  for (const [file, text] of texts) {
    const imports = importsOf(text);
    if (layerOf(file) === '.') {
      for (const imp of imports) checkImport(file, imp, ctx); // the barrel is free; its edges count for cycles
      continue;
    }
    for (const imp of imports) for (const p of checkImport(file, imp, ctx)) problems.push(`${file}: ${p}`);
  }
  for (const cycle of cycles(ctx.graph)) {
    const typeOnly = cycle.slice(1).some((to, i) => !ctx.valueEdges.has(`${cycle[i]}\0${to}`));
    const note = typeOnly
      ? ' (through import type: gone at run time, but the files still depend on each other)'
      : '';
    problems.push(`import cycle: ${cycle.join(' → ')}${note}`);
  }
  return problems;
}

const src = resolve(process.argv[2] ?? new URL('../src/', import.meta.url).pathname);
const problems = checkLayers(src);
if (problems.length) {
  console.error(`layer check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
