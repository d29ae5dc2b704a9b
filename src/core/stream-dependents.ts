/**
 * What depends on a stream: subscriptions, continuous queries, and next
 * connectors register here, so deleting a stream asks all of them through
 * one registry instead of a hook per kind.
 *
 * A dependent that holds the stream's data (a subscription still reading
 * it) blocks a delete without `force`, and after a forced delete keeps the
 * stream's logs (the stream is archived) until the last holder is gone.
 * Other dependents (a query reading the stream) are only reported.
 */

export interface StreamRef {
  /** internal id: follows the stream after it is archived */
  id: number;
  name: string;
}

export interface StreamDependent {
  /** what kind of dependents these are, for messages ("subscription", "query") */
  readonly kind: string;
  /** whether these dependents keep the stream's data after a forced delete */
  readonly holdsData: boolean;
  /** names of this kind's dependents of the stream */
  dependentsOf(stream: StreamRef): string[];
}

export interface Dependents {
  kind: string;
  names: string[];
}

export class StreamDependents {
  readonly #registered: StreamDependent[] = [];

  register(dependent: StreamDependent): void {
    this.#registered.push(dependent);
  }

  /** Every dependent of the stream, by kind (kinds with none are left out). */
  of(stream: StreamRef): Dependents[] {
    return this.#registered.map((d) => ({ kind: d.kind, names: d.dependentsOf(stream) })).filter((d) => d.names.length > 0);
  }

  /** Whether anything still holds the stream's data. */
  holdsData(stream: StreamRef): boolean {
    return this.#registered.some((d) => d.holdsData && d.dependentsOf(stream).length > 0);
  }
}
