-- fix 4: upstream's COUNT(e) counts NULLs and a failing aggregate input turns the column NULL for good.
-- Ours: COUNT(e) counts non-NULL values (a missing field is NULL); a value SUM cannot add (a string) is
-- skipped for SUM only and counted in stats.evalErrors.
SELECT COUNT(*) AS rows_seen, COUNT(v) AS with_v, SUM(v) AS total FROM s GROUP BY g EMIT CHANGES;
-- input
s {"g": 1, "v": 2}
s {"g": 1}
s {"g": 1, "v": null}
s {"g": 1, "v": "three"}
s {"g": 1, "v": 4}
-- output
{"rows_seen": 1, "with_v": 1, "total": 2}
{"rows_seen": 2, "with_v": 1, "total": 2}
{"rows_seen": 3, "with_v": 1, "total": 2}
{"rows_seen": 4, "with_v": 2, "total": 2}
{"rows_seen": 5, "with_v": 3, "total": 6}
-- stats {"evalErrors": 1}
