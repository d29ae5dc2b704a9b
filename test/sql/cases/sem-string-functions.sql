-- String functions; SPLIT takes the delimiter first (upstream's order).
SELECT TO_UPPER(s) AS up, TO_LOWER(s) AS low, TRIM(p) AS t, LEFT_TRIM(p) AS lt, RIGHT_TRIM(p) AS rt, REVERSE(s) AS rev, STRLEN(s) AS len, SPLIT('.', path) AS parts, SPLIT('a.b.c', x) FROM x EMIT CHANGES;
-- input
x {"s": "Héllo", "p": "  pad  ", "path": "a.b.c", "x": "no"}
-- output
{"up": "HÉLLO", "low": "héllo", "t": "pad", "lt": "pad  ", "rt": "  pad", "rev": "olléH", "len": 5, "parts": ["a", "b", "c"], "SPLIT('a.b.c',x)": ["no"]}
