-- A row without the key column groups under NULL (upstream's SQL docs).
SELECT k, COUNT(*) AS n FROM s GROUP BY k EMIT CHANGES;
-- input
s {"k": 1}
s {"other": 1}
s {"k": null}
-- output
{"k": 1, "n": 1}
{"k": null, "n": 1}
{"k": null, "n": 2}
