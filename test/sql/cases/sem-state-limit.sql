-- The state bound (maxGroups) stops the query with a runtime error instead of growing without limit;
-- the row that does not fit changes nothing.
SELECT k, COUNT(*) AS n FROM s GROUP BY k EMIT CHANGES;
-- options {"maxGroups": 2}
-- input
s {"k": 1}
s {"k": 2}
s {"k": 1}
s {"k": 3}
-- output
{"k": 1, "n": 1}
{"k": 2, "n": 1}
{"k": 1, "n": 2}
-- runtime-fail: query state limit reached: 2 groups held, the limit (maxGroups) is 2
-- view
{"k": 1, "n": 2}
{"k": 2, "n": 1}
