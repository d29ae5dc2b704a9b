/** MQTT topic filter rules (MQTT 5 §4.7), checked before a broker would refuse the subscription. */

const MAX_TOPIC_BYTES = 65535;

/** Why a topic filter is invalid, or undefined when it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'a topic filter must not be empty';
  if (Buffer.byteLength(filter, 'utf8') > MAX_TOPIC_BYTES) return `a topic filter is at most ${MAX_TOPIC_BYTES} bytes of UTF-8`;
  if (filter.includes('\u0000')) return 'a topic filter must not contain NUL';
  if (/[\uD800-\uDFFF]/u.test(filter.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) return 'a topic filter must be valid UTF-8 (it has a lone surrogate)';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '"#" must be a whole level and the last one ("a/#")';
    if (level.includes('+') && level !== '+') return '"+" must be a whole level ("a/+/c")';
  }
  return undefined;
}
