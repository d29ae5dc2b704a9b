-- Expressions over aggregates and keys (upstream silently drops them, fix 13).
SELECT k, SUM(v) + 1 AS s1, ABS(MIN(v)) AS abs_min, k + COUNT(*) AS kc FROM s GROUP BY k EMIT CHANGES;
-- input
s {"k": 10, "v": -3}
s {"k": 10, "v": 5}
-- output
{"k": 10, "s1": -2, "abs_min": 3, "kc": 11}
{"k": 10, "s1": 3, "abs_min": 3, "kc": 12}
