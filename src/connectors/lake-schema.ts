/**
 * The schema of a lake, inferred from its records and kept beside the data
 * in `_schema.json` with every change as a version, so evolution is visible
 * to whoever reads the files.
 *
 * Fields are the union of the records' top-level keys, in order of first
 * appearance. JSON numbers are DOUBLE from the start: a column that began as
 * BIGINT and later held 20.5 would change type between files, and engines
 * that take the first file's schema (DuckDB without union_by_name) round
 * the later values. A field that holds values of different kinds becomes
 * STRING (numbers and booleans as their JSON text); nested objects and
 * arrays are JSON text (type JSON, STRING once mixed with other kinds).
 * A field seen only as null has no column until it holds a value. Types
 * only widen, so every file can be written with the current schema.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from './lake-files.js';

export type FieldType = 'BOOLEAN' | 'DOUBLE' | 'STRING' | 'JSON';

export interface Field {
  readonly name: string;
  readonly type: FieldType;
}

/** One change of the schema: fields added or widened, from the file named `since` on. */
interface SchemaVersion {
  version: number;
  since: string;
  createdAt: string;
  changes: Array<{ name: string; type: FieldType; was?: FieldType }>;
}

interface CatalogFile {
  current: { version: number; fields: Field[] };
  versions: SchemaVersion[];
}

export const SCHEMA_FILE = '_schema.json';
/** More columns than this is not a schema but a key-per-record map: such records are rejected. */
export const MAX_FIELDS = 1000;

function kindOf(value: unknown): FieldType | undefined {
  switch (typeof value) {
    case 'boolean':
      return 'BOOLEAN';
    case 'number':
      return 'DOUBLE';
    case 'string':
      return 'STRING';
    case 'object':
      return value === null ? undefined : 'JSON';
    default:
      return undefined;
  }
}

/**
 * The fields inferred from records, starting from the fields files already
 * have: what the encoder thread grows while it reads a file's records.
 */
export class FieldSet {
  readonly #fields = new Map<string, FieldType>();

  constructor(fields: readonly Field[]) {
    for (const f of fields) this.#fields.set(f.name, f.type);
  }

  get fields(): Field[] {
    return [...this.#fields].map(([name, type]) => ({ name, type }));
  }

  /** Widens the fields to take the object; false (and no change) when it would pass MAX_FIELDS. */
  observe(row: Record<string, unknown>): boolean {
    if (this.#fits(row)) return true;
    let added = 0;
    for (const key in row) if (!this.#fields.has(key) && kindOf(row[key]) !== undefined) added++;
    if (added > 0 && this.#fields.size + added > MAX_FIELDS) return false;
    for (const key in row) {
      const kind = kindOf(row[key]);
      if (kind === undefined) continue;
      const was = this.#fields.get(key);
      if (was === kind || was === 'STRING') continue;
      this.#fields.set(key, was === undefined ? kind : 'STRING');
    }
    return true;
  }

  /** Whether the fields take the object as it is (nearly every record): one look-up per field. */
  #fits(row: Record<string, unknown>): boolean {
    for (const key in row) {
      const kind = kindOf(row[key]);
      if (kind === undefined) continue;
      const was = this.#fields.get(key);
      if (was !== kind && was !== 'STRING') return false;
    }
    return true;
  }
}

/** The changes from `from` to `to` (which only adds and widens), in `to`'s order. */
function changesBetween(from: readonly Field[], to: readonly Field[]): SchemaVersion['changes'] {
  const was = new Map(from.map((f) => [f.name, f.type]));
  const changes: SchemaVersion['changes'] = [];
  for (const { name, type } of to) {
    const before = was.get(name);
    if (before === type) continue;
    changes.push(before === undefined ? { name, type } : { name, type, was: before });
  }
  return changes;
}

/** Whether a file of `fields` has every column of `saved` with its type: written after it, it is read with that schema. */
export function coversFields(fields: readonly Field[], saved: readonly Field[]): boolean {
  const have = new Map(fields.map((f) => [f.name, f.type]));
  return saved.every((f) => have.get(f.name) === f.type);
}

/** The catalog as saved in `_schema.json`: the fields of the files written so far and their versions. */
export class SchemaCatalog {
  #fields: Field[];
  readonly #versions: SchemaVersion[];

  private constructor(file: CatalogFile | undefined) {
    this.#versions = file?.versions ?? [];
    this.#fields = file?.current.fields ?? [];
  }

  /** The catalog of a lake directory (empty when it has none yet). */
  static async load(dir: string): Promise<SchemaCatalog> {
    let text: string;
    try {
      text = await readFile(join(dir, SCHEMA_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new SchemaCatalog(undefined);
      throw err;
    }
    const file = JSON.parse(text) as CatalogFile;
    if (!file?.current || !Array.isArray(file.current.fields) || !Array.isArray(file.versions)) {
      throw new Error(`${join(dir, SCHEMA_FILE)} is not a schema catalog`);
    }
    return new SchemaCatalog(file);
  }

  get fields(): readonly Field[] {
    return this.#fields;
  }

  /**
   * Records the fields of the file `since` as a new version when they are
   * not the saved ones, before that file is written: the version names the
   * first file that holds it, whatever files were sealed meanwhile.
   */
  async save(dir: string, since: string, fields: readonly Field[]): Promise<void> {
    const changes = changesBetween(this.#fields, fields);
    if (changes.length === 0) return;
    const version = (this.#versions.at(-1)?.version ?? 0) + 1;
    const entry: SchemaVersion = { version, since, createdAt: new Date().toISOString(), changes };
    const file: CatalogFile = { current: { version, fields: [...fields] }, versions: [...this.#versions, entry] };
    await writeAtomically(dir, SCHEMA_FILE, `${JSON.stringify(file, null, 2)}\n`);
    this.#versions.push(entry);
    this.#fields = [...fields];
  }
}

/** A value as its column stores it: the type's own value, JSON text for STRING and JSON columns, null when absent. */
export function columnValue(type: FieldType, value: unknown): boolean | number | string | null {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : null;
    case 'DOUBLE':
      return typeof value === 'number' ? value : null;
    case 'STRING':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'JSON':
      return JSON.stringify(value);
  }
}
