-- fix 8: upstream implements TAKEEND, DROP and DROPEND as TAKE, and CHUNKSOF cannot take a literal count.
SELECT TAKE(2, s) AS t, TAKEEND(2, s) AS te, DROP(2, s) AS d, DROPEND(2, s) AS de, CHUNKSOF(2, s) AS c FROM x EMIT CHANGES;
-- input
x {"s": "hello"}
-- output
{"t": "he", "te": "lo", "d": "llo", "de": "hel", "c": ["he", "ll", "o"]}
