/**
 * A lake file's contents from its records, as the encoder thread makes them
 * (parquet-encoder.ts): each record read as JSON, set aside for `_rejected/`
 * when it is not a JSON object (or would pass the schema's field limit), its
 * fields observed into the schema the previous file ended with, its values
 * put into columns, and the columns encoded as Parquet (or the records
 * written as lines of JSON). Pure: the same request always makes the same
 * file, so a failed encoding can simply be asked for again.
 */
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { readJsonText, readPayloadJson, startsAsJsonText } from './driver.js';
import { packedAscii, packedEnd, packedId, packedIsRaw, type PackedRecords } from './lake-records.js';
import { columnValue, FieldSet, type Field } from './lake-schema.js';

export type LakeFileFormat = 'parquet' | 'jsonl';

export interface LakeFileRequest {
  readonly format: LakeFileFormat;
  readonly shardId: number;
  /** the schema the files before this one have: this file's fields start from it */
  readonly fields: readonly Field[];
  readonly records: PackedRecords;
  readonly createdBy: string;
}

export interface LakeFile {
  /** the data file's contents; undefined when every record was rejected */
  readonly data: Uint8Array | string | undefined;
  /** the schema after this file's records: what it was encoded with */
  readonly fields: Field[];
  /** `_rejected/` lines: record id, why, and the payload */
  readonly rejected: string[];
}

/** How a file's accepted records become its contents. */
interface Body {
  add(value: Record<string, unknown>, text: string): void;
  contents(fields: readonly Field[], createdBy: string): Uint8Array | string | undefined;
}

/** Parquet: the file's rows, kept only while it is encoded, then as columns of the schema's fields. */
class ColumnsBody implements Body {
  readonly #rows: Array<Record<string, unknown>> = [];

  add(value: Record<string, unknown>): void {
    this.#rows.push(value);
  }

  contents(fields: readonly Field[], createdBy: string): Uint8Array | undefined {
    const rows = this.#rows;
    if (rows.length === 0) return undefined;
    const columns: ColumnSource[] = fields.map(({ name, type }) => {
      const parquetType = type === 'BOOLEAN' ? 'BOOLEAN' : type === 'DOUBLE' ? 'DOUBLE' : 'STRING';
      // a number in every row: the library writes a typed array without looking at each value's type
      if (type === 'DOUBLE') {
        const doubles = new Float64Array(rows.length);
        let i = 0;
        for (let v; i < rows.length && typeof (v = rows[i]![name]) === 'number'; i++) doubles[i] = v;
        if (i === rows.length) return { name, data: doubles, type: parquetType };
      }
      const data = new Array<boolean | number | string | null>(rows.length);
      for (let i = 0; i < rows.length; i++) data[i] = columnValue(type, rows[i]![name]);
      return { name, data, type: parquetType };
    });
    return new Uint8Array(parquetWriteBuffer({ columnData: columns, createdBy }));
  }
}

class LinesBody implements Body {
  readonly #lines: string[] = [];

  add(value: Record<string, unknown>, text: string): void {
    // JSON text has raw line breaks only between tokens: such a record is written again on one line.
    this.#lines.push(/[\r\n]/.test(text) ? JSON.stringify(value) : text);
  }

  contents(): string | undefined {
    return this.#lines.length === 0 ? undefined : `${this.#lines.join('\n')}\n`;
  }
}

export function encodeLakeFile(req: LakeFileRequest): LakeFile {
  const body: Body = req.format === 'parquet' ? new ColumnsBody() : new LinesBody();
  const schema = new FieldSet(req.fields);
  const rejected: string[] = [];
  const { records } = req;
  const ascii = packedAscii(records);
  let start = 0;
  for (let i = 0; i < records.count; i++) {
    const end = packedEnd(records, i);
    const raw = packedIsRaw(records, i);
    // ASCII JSON text (nearly every record) is read straight from its bytes; the rest as any sink reads a record
    const text = ascii?.text(start, end);
    const parsed = text !== undefined && (raw || startsAsJsonText(text.charCodeAt(0))) ? readJsonText(text) : readPayloadJson(Buffer.from(records.bytes.buffer, records.bytes.byteOffset + start, end - start), raw ? 'RAW' : 'JSON');
    const value = parsed.ok ? parsed.value : undefined;
    const reason = !parsed.ok
      ? parsed.reason
      : typeof value !== 'object' || value === null || Array.isArray(value)
        ? 'not a JSON object'
        : schema.observe(value as Record<string, unknown>)
          ? undefined
          : 'more fields than a lake schema takes';
    if (reason === undefined && parsed.ok) {
      body.add(value as Record<string, unknown>, req.format === 'jsonl' ? parsed.text : '');
    } else {
      const shown = parsed.ok || parsed.reason === 'not JSON' ? { payload: parsed.text } : { payloadBase64: Buffer.from(records.bytes.subarray(start, end)).toString('base64') };
      rejected.push(JSON.stringify({ recordId: packedId(records, req.shardId, i), reason, ...shown }));
    }
    start = end;
  }
  const fields = schema.fields;
  return { data: body.contents(fields, req.createdBy), fields, rejected };
}
