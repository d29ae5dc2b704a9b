-- NATURAL JOIN matches on every shared column; CROSS JOIN on nothing (both still WITHIN the interval).
SELECT l.x, r.y FROM l NATURAL JOIN r WITHIN (INTERVAL 5 SECOND) EMIT CHANGES;
-- input
l @1000 {"k": 1, "x": "a"}
r @2000 {"k": 1, "y": "b"}
r @3000 {"k": 2, "y": "c"}
r @9000 {"k": 1, "y": "late"}
-- output
{"x": "a", "y": "b"}
