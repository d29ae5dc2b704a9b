-- HAVING may name a select alias (as upstream allows), a group key, or an aggregate not selected at all.
SELECT k, SUM(v) AS total FROM s GROUP BY k HAVING total >= 10 AND k <> 'x' AND MAX(v) < 100 EMIT CHANGES;
-- input
s {"k": "x", "v": 50}
s {"k": "y", "v": 5}
s {"k": "y", "v": 6}
s {"k": "y", "v": 200}
s {"k": "z", "v": 10}
-- output
{"k": "y", "total": 11}
{"k": "z", "total": 10}
-- view
{"k": "z", "total": 10}
