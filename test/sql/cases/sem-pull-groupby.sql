-- A pull query may aggregate over a view's rows (the input lines are the view's rows).
SELECT category, SUM(max_length) AS total, COUNT(*) AS n FROM result GROUP BY category;
-- input
result {"category": "Fruit", "max_length": 40}
result {"category": "Vegetable", "max_length": 60}
result {"category": "Fruit", "max_length": 2}
-- output
{"category": "Fruit", "total": 42, "n": 2}
{"category": "Vegetable", "total": 60, "n": 1}
