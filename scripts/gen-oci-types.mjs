// One-off generator for src/oci/spec-schema.generated.ts. json-schema-to-typescript is deliberately not a
// dependency: run `npx -y json-schema-to-typescript@16.0.0 --help` once, or install it in a scratch dir, then
//   node scripts/gen-oci-types.mjs > /tmp/types.ts   and replace the body of the generated file.
import { compileFromFile } from 'json-schema-to-typescript';

const dir = new URL('../vendor/oci-runtime-spec-schema/', import.meta.url).pathname;
const ts = await compileFromFile(`${dir}config-schema.json`, {
  cwd: dir,
  bannerComment: '',
  additionalProperties: false,
  unknownAny: true,
  strictIndexSignatures: true,
});
process.stdout.write(ts);
