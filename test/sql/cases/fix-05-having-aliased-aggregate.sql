-- fix 5: upstream filters every row when HAVING names an aggregate that is aliased in SELECT.
SELECT k, COUNT(*) AS c FROM s GROUP BY k HAVING COUNT(*) > 1 EMIT CHANGES;
-- input
s {"k": "a"}
s {"k": "b"}
s {"k": "a"}
s {"k": "a"}
-- output
{"k": "a", "c": 2}
{"k": "a", "c": 3}
-- view
{"k": "a", "c": 3}
