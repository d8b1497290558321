/**
 * Go `encoding/json` decoding rules that dockerd's clients and plugins depend on.
 * @module
 */
export {
  type CanonicalKeys,
  canonicalKeys,
  describeUnknownKey,
  type FieldSchema,
  foldKey,
  type UnknownKey,
} from './keys.ts';
