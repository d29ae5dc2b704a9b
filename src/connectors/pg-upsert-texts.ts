/**
 * The upsert texts a PostgreSQL sink sends, kept by shape (table, columns,
 * key, row count) with a statement name each. Building the text of a
 * 100-row statement (a placeholder per value) on every write kept the
 * database waiting, and a named text is prepared once per connection.
 *
 * Bounded by entries and by characters, least recently used out first, so
 * a stream whose rows keep changing shape cannot grow it and the few hot
 * texts stay while cold ones come and go. A name is derived from the shape,
 * not counted: a text dropped and built again keeps its name, so
 * connections that prepared it go on using it instead of preparing one more.
 */
import { createHash } from 'node:crypto';

export interface NamedText {
  readonly sql: string;
  readonly name: string;
}

export class UpsertTexts {
  readonly #texts = new Map<string, NamedText>();
  #chars = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}

  /** The text for this shape id, built by `build` when not kept. */
  get(id: string, build: () => string): NamedText {
    const known = this.#texts.get(id);
    if (known !== undefined) {
      // most recently used goes last: eviction takes from the front
      this.#texts.delete(id);
      this.#texts.set(id, known);
      return known;
    }
    const sql = build();
    const entry: NamedText = { sql, name: `hstreamlite_upsert_${createHash('sha256').update(id).digest('base64url').slice(0, 24)}` };
    for (const [oldId, old] of this.#texts) {
      if (this.#texts.size < this.maxEntries && this.#chars + sql.length <= this.maxChars) break;
      this.#texts.delete(oldId);
      this.#chars -= old.sql.length;
    }
    this.#texts.set(id, entry);
    this.#chars += sql.length;
    return entry;
  }

  get size(): number {
    return this.#texts.size;
  }

  get chars(): number {
    return this.#chars;
  }
}
