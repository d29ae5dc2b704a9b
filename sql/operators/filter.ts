/**
 * Filter: WHERE, HAVING and join conditions. A row passes only when the
 * condition is exactly TRUE; NULL, FALSE and an evaluation error all drop it
 * (upstream's SQL docs), errors being counted.
 *
 * Must not import anything outside sql/.
 */
import type { Evaluator } from '../compile.js';
import { EvalError } from '../errors.js';
import type { Counters } from './counters.js';

export type Predicate<E> = (env: E) => boolean;

export function makePredicate<E>(condition: Evaluator<E>, counters: Counters): Predicate<E> {
  return (env) => {
    try {
      return condition(env) === true;
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      counters.evalErrors++;
      return false;
    }
  };
}
