-- CROSS JOIN: every pair within the interval.
SELECT l.x, r.y FROM l CROSS JOIN r WITHIN (INTERVAL 2 SECOND) EMIT CHANGES;
-- input
l @1000 {"x": 1}
l @2000 {"x": 2}
r @3000 {"y": "a"}
-- output
{"x": 1, "y": "a"}
{"x": 2, "y": "a"}
