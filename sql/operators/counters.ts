/**
 * What a running query counts besides its output, and the state budget all
 * its stateful operators share (groups, windows, sessions, buffered join rows).
 *
 * Must not import anything outside sql/.
 */
import { SqlError } from '../errors.js';

export interface Counters {
  /** expression errors: rows dropped by a failing condition, fields set to NULL, aggregate inputs skipped */
  evalErrors: number;
  /** rows that arrived after their window (or session) had closed */
  lateRows: number;
}

export const newCounters = (): Counters => ({ evalErrors: 0, lateRows: 0 });

export class StateBudget {
  used = 0;
  constructor(readonly max: number) {}

  /** throws before anything is changed if `n` more entries would not fit */
  reserve(n: number, what: string): void {
    if (this.used + n > this.max) {
      throw new SqlError('runtime', `query state limit reached: ${this.used} ${what} held, the limit (maxGroups) is ${this.max}`);
    }
  }
}
