/** DuckDB, in process and in memory, to read back what file sinks wrote as a real engine would. */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let connection: Promise<DuckDBConnection> | undefined;

/** Rows of a query as plain JSON values (BIGINT and DOUBLE as numbers, strings as strings). */
export async function duckdbRows(sql: string): Promise<Array<Record<string, unknown>>> {
  connection ??= DuckDBInstance.create(':memory:').then((db) => db.connect());
  const reader = await (await connection).runAndReadAll(sql);
  return reader.getRowObjectsJson() as Array<Record<string, unknown>>;
}

/** A path as a DuckDB string literal. */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
