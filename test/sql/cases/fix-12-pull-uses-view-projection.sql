-- fix 12: upstream ignores the view's projection when it has no HAVING (SELECT * shows b and every aggregate).
-- Ours: a view's rows are always what its SELECT list says.
CREATE VIEW v AS SELECT SUM(a) AS total FROM s GROUP BY b;
-- input
s {"a": 1, "b": "x"}
s {"a": 2, "b": "x"}
s {"a": 5, "b": "y"}
-- pull SELECT * FROM v;
{"total": 3}
{"total": 5}
