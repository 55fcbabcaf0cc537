// Compiles the published JSON Schemas in schemas/ once, into validators that throw InvalidEventError.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DATE_TIME_FORMAT } from './date-time.js';
import { InvalidEventError } from './errors.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
addFormats(ajv);
ajv.addFormat('date-time', DATE_TIME_FORMAT);

export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export type Validator<T> = (data: unknown) => T;

export function compileSchema<T>(file: string): Validator<T> {
  const schema = JSON.parse(readFileSync(SCHEMA_DIR + file, 'utf8')) as object;
  const check = ajv.compile<T>(schema);
  return (data: unknown): T => {
    if (check(data)) return data;
    const first = check.errors?.[0];
    const path = first?.instancePath || '/';
    throw new InvalidEventError('FD_EVENT_SCHEMA', `${path}: ${first?.message ?? 'invalid'}`);
  };
}
