-- fix 13: upstream computes no aggregate without GROUP BY and emits {} per row.
-- Ours aggregates the whole stream as one group.
SELECT COUNT(*) AS n, SUM(a) AS total, MAX(a) + 1 AS next FROM s EMIT CHANGES;
-- input
s {"a": 3}
s {"a": 4}
s {"b": 1}
-- output
{"n": 1, "total": 3, "next": 4}
{"n": 2, "total": 7, "next": 5}
{"n": 3, "total": 7, "next": 5}
-- table key=
{"n": 3, "total": 7, "next": 5}
