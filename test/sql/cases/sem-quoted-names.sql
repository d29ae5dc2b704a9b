-- Columns named like keywords must be double-quoted; a quoted name is used as-is (also for computed names).
SELECT "date", "count" + 1, "SUM(a)" AS s FROM x EMIT CHANGES;
-- input
x {"date": "today", "count": 1, "SUM(a)": 7}
-- output
{"date": "today", "\"count\"+1": 2, "s": 7}
