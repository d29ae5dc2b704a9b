-- FULL JOIN: unmatched rows of both sides come out NULL-extended when they expire.
SELECT a.x AS ax, b.x AS bx FROM a FULL JOIN b ON a.x = b.x WITHIN (INTERVAL 1 SECOND) EMIT CHANGES;
-- input
a @1000 {"x": 1}
b @1500 {"x": 1}
a @2000 {"x": 2}
b @2500 {"x": 3}
a @9000 {"x": 4}
b @9000 {"x": 5}
-- output
{"ax": 1, "bx": 1}
{"ax": null, "bx": 3}
{"ax": 2, "bx": null}
