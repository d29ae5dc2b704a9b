/**
 * A package loaded the first time it is used instead of at start-up.
 *
 * Why: the connector client libraries (mysql2, mqtt, pg), the connector
 * config validator (ajv) and the YAML parser took ~220 ms of CPU of a
 * ~700 ms start-up on an empty store, yet most servers, every
 * integration-test fixture among them, never create a connector or read a
 * config file. They are CommonJS packages, so a synchronous require keeps
 * their callers synchronous.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** A function returning the package `id`, required on its first call. */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}
