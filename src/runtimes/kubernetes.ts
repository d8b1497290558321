/**
 * A runtime's Kubernetes face: the CRI handler name it is exported under and what its `RuntimeClass` carries.
 * Handlers are lower-case RFC 1123 labels (Kubernetes validates `RuntimeClass.handler` so), while berth names may
 * hold `.`, `_` or upper case — so a runtime may name its handler in daemon.json:
 * `"kubernetes": {"handler": "gvisor", "overhead": {"podFixed": {"cpu": "250m"}}, "nodeSelector": {…}}`.
 *
 * @module
 */

/** What daemon.json's `kubernetes` object of one runtime holds, validated. */
export interface KubernetesRuntime {
  /** The CRI handler (and RuntimeClass name); the runtime's own name when absent. */
  readonly handler?: string;
  /** `RuntimeClass.overhead`: `{podFixed: {cpu: "250m", memory: "120Mi"}}`. */
  readonly overhead?: { readonly podFixed: Readonly<Record<string, string>> };
  /** `RuntimeClass.scheduling.nodeSelector`. */
  readonly nodeSelector?: Readonly<Record<string, string>>;
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_HANDLER_LENGTH = 63;

/** Why `name` cannot be a Kubernetes runtime handler, or undefined when it can. */
export function handlerNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.length > MAX_HANDLER_LENGTH) return `it is longer than ${MAX_HANDLER_LENGTH} characters`;
  if (!LABEL.test(name)) {
    return 'a handler must be a lower-case RFC 1123 label: a-z, 0-9 and "-", starting and ending with a letter or digit';
  }
  return undefined;
}

/** A valid handler close to `name` (`My_Runtime.v2` → `my-runtime-v2`), for error messages. */
export function suggestHandler(name: string): string {
  const s = name
    .toLowerCase()
    .replaceAll(/[^a-z0-9-]+/g, '-')
    .replaceAll(/-+/g, '-')
    .slice(0, MAX_HANDLER_LENGTH)
    .replaceAll(/^-+|-+$/g, '');
  return s === '' ? 'runtime' : s;
}

const KEYS = ['handler', 'overhead', 'nodeSelector'] as const;
const MISTAKES: Record<string, string> = {
  runtimehandler: 'handler',
  runtime_handler: 'handler',
  name: 'handler',
  nodeselector: 'nodeSelector',
  node_selector: 'nodeSelector',
  'node-selector': 'nodeSelector',
  scheduling: 'nodeSelector',
  podfixed: 'overhead',
};
/** Kubernetes' resource.Quantity pattern (from its OpenAPI schema). */
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why `key` is not a Kubernetes label key (`[prefix/]name`), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `its prefix "${prefix}" is not a DNS subdomain`;
  if (name.length > 63 || !LABEL_NAME.test(name))
    return `its name "${name}" must be at most 63 characters of A-Z, a-z, 0-9, "-", "_", "." starting and ending alphanumeric`;
  return undefined;
}

function checkNodeSelector(where: string, raw: unknown, problems: string[]): Record<string, string> {
  if (!isRecord(raw)) {
    problems.push(`${where}.nodeSelector must be an object of label keys to values`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) problems.push(`${where}.nodeSelector: label key "${key}" is invalid: ${keyProblem}`);
    if (typeof value !== 'string' || (value !== '' && (value.length > 63 || !LABEL_NAME.test(value))))
      problems.push(
        `${where}.nodeSelector["${key}"]: ${JSON.stringify(value)} is not a label value (a string of at most 63 characters, e.g. "true")`,
      );
    else out[key] = value;
  }
  return out;
}

function checkOverhead(where: string, raw: unknown, problems: string[]): Record<string, string> {
  const podFixed = isRecord(raw) ? raw.podFixed : undefined;
  if (!isRecord(raw) || !isRecord(podFixed) || Object.keys(raw).length !== 1) {
    problems.push(`${where}.overhead must be {"podFixed": {"cpu": "250m", "memory": "120Mi"}}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [resource, value] of Object.entries(podFixed)) {
    const text = typeof value === 'number' && value >= 0 ? String(value) : value;
    if (typeof text !== 'string' || !QUANTITY.test(text))
      problems.push(
        `${where}.overhead.podFixed.${resource}: ${JSON.stringify(value)} is not a Kubernetes quantity such as "250m" or "120Mi"`,
      );
    else out[resource] = text;
  }
  return out;
}

/**
 * Validates one runtime's `kubernetes` object. Problems are appended (unknown keys with a suggestion).
 * Returns undefined when there was a problem.
 */
export function checkKubernetes(
  runtime: string,
  raw: unknown,
  problems: string[],
): KubernetesRuntime | undefined {
  const where = `runtime ${runtime}: kubernetes`;
  if (!isRecord(raw)) {
    problems.push(`${where} must be an object like {"handler": "gvisor"}`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw)) {
    if ((KEYS as readonly string[]).includes(key)) continue;
    const hint = MISTAKES[key.toLowerCase()] ?? KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    problems.push(`${where}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
  const { handler, overhead, nodeSelector } = raw;
  if (handler !== undefined) {
    const problem = typeof handler === 'string' ? handlerNameProblem(handler) : 'it is not a string';
    if (problem)
      problems.push(
        `${where}.handler ${JSON.stringify(handler)} is invalid: ${problem} (e.g. "${suggestHandler(String(handler))}")`,
      );
  }
  const podFixed = overhead === undefined ? undefined : checkOverhead(where, overhead, problems);
  const selector = nodeSelector === undefined ? undefined : checkNodeSelector(where, nodeSelector, problems);
  if (problems.length > before) return undefined;
  return {
    ...(typeof handler === 'string' ? { handler } : {}),
    ...(podFixed ? { overhead: { podFixed } } : {}),
    ...(selector ? { nodeSelector: selector } : {}),
  };
}

/**
 * Two runtimes exported under one handler would make one of them unreachable: every handler (explicit, or a
 * runtime's own valid name) must be unique. `runc` is always taken by the stock runtime.
 */
export function handlerClashes(
  runtimes: Readonly<Record<string, { readonly kubernetes?: KubernetesRuntime }>>,
): string[] {
  const owners = new Map<string, string>([['runc', 'runc']]);
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(runtimes)) {
    const handler = entry.kubernetes?.handler ?? name;
    if (handlerNameProblem(handler)) continue;
    const owner = owners.get(handler);
    if (owner !== undefined && owner !== name)
      problems.push(
        `runtime ${name}: Kubernetes handler "${handler}" is already used by runtime ${owner}; set another "kubernetes": {"handler": …}`,
      );
    else owners.set(handler, name);
  }
  return problems;
}
