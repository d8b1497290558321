import type { ErrorObject, ValidateFunction } from 'ajv';
import ajvDraft04 from 'ajv-draft-04';
import configFreebsd from '../../vendor/oci-runtime-spec-schema/config-freebsd.json' with { type: 'json' };
import configLinux from '../../vendor/oci-runtime-spec-schema/config-linux.json' with { type: 'json' };
import configSchema from '../../vendor/oci-runtime-spec-schema/config-schema.json' with { type: 'json' };
import configSolaris from '../../vendor/oci-runtime-spec-schema/config-solaris.json' with { type: 'json' };
import configVm from '../../vendor/oci-runtime-spec-schema/config-vm.json' with { type: 'json' };
import configWindows from '../../vendor/oci-runtime-spec-schema/config-windows.json' with { type: 'json' };
import configZos from '../../vendor/oci-runtime-spec-schema/config-zos.json' with { type: 'json' };
import defs from '../../vendor/oci-runtime-spec-schema/defs.json' with { type: 'json' };
import defsFreebsd from '../../vendor/oci-runtime-spec-schema/defs-freebsd.json' with { type: 'json' };
import defsLinux from '../../vendor/oci-runtime-spec-schema/defs-linux.json' with { type: 'json' };
import defsVm from '../../vendor/oci-runtime-spec-schema/defs-vm.json' with { type: 'json' };
import defsWindows from '../../vendor/oci-runtime-spec-schema/defs-windows.json' with { type: 'json' };
import defsZos from '../../vendor/oci-runtime-spec-schema/defs-zos.json' with { type: 'json' };

/** One reason a spec does not conform: a JSON pointer into the spec and what is wrong there. */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
}

/** Which schema to check against. */
export type SpecSchemaFlavor =
  /** The official OCI runtime-spec v1.3.0 schema, unchanged. */
  | 'official'
  /** The official schema plus runc's recursive `rootfsPropagation` values (what berth writes). */
  | 'berth';

const RECURSIVE_PROPAGATIONS = ['rprivate', 'rshared', 'rslave', 'runbindable'];

function widenedDefsLinux(): typeof defsLinux {
  const copy: typeof defsLinux = JSON.parse(JSON.stringify(defsLinux));
  copy.definitions.RootfsPropagation.enum.push(...RECURSIVE_PROPAGATIONS);
  return copy;
}

function compile(flavor: SpecSchemaFlavor): ValidateFunction {
  // strict:false because the upstream draft-04 schema uses keywords ajv's strict mode rejects.
  const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
  const files: Record<string, object> = {
    'defs.json': defs,
    'defs-linux.json': flavor === 'berth' ? widenedDefsLinux() : defsLinux,
    'defs-windows.json': defsWindows,
    'defs-vm.json': defsVm,
    'defs-zos.json': defsZos,
    'defs-freebsd.json': defsFreebsd,
    'config-linux.json': configLinux,
    'config-solaris.json': configSolaris,
    'config-windows.json': configWindows,
    'config-vm.json': configVm,
    'config-zos.json': configZos,
    'config-freebsd.json': configFreebsd,
    'config-schema.json': configSchema,
  };
  for (const [name, schema] of Object.entries(files)) ajv.addSchema(schema, name);
  const validate = ajv.getSchema('config-schema.json');
  if (!validate) throw new Error('OCI config schema did not compile');
  return validate;
}

const compiled = new Map<SpecSchemaFlavor, ValidateFunction>();

function toIssue(e: ErrorObject): SpecIssue {
  const allowed =
    e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
  return { path: e.instancePath || '/', message: `${e.message ?? 'is invalid'}${allowed}` };
}

/**
 * Checks a spec against the OCI runtime-spec JSON Schema (v1.3.0, vendored). Never throws for a bad spec:
 * it returns the issues, an empty list when the spec conforms. The schema is compiled on first use
 * (about 170 ms) and cached.
 *
 * @param spec any value, typically a {@link Spec} about to be written as a bundle's `config.json`
 * @param flavor `berth` (default) also accepts runc's recursive `rootfsPropagation` values
 * @returns the list of issues, each a JSON pointer and a message
 */
export function validateSpec(spec: unknown, flavor: SpecSchemaFlavor = 'berth'): SpecIssue[] {
  let validate = compiled.get(flavor);
  if (!validate) {
    validate = compile(flavor);
    compiled.set(flavor, validate);
  }
  return validate(spec) ? [] : (validate.errors ?? []).map(toIssue);
}
