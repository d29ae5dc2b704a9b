-- fix 2: upstream's AVG is always NULL. Ours is the mean of the non-NULL values.
SELECT k, AVG(v) AS mean, COUNT(*) AS n FROM s GROUP BY k EMIT CHANGES;
-- input
s {"k": "a", "v": 1}
s {"k": "a", "v": 2}
s {"k": "a", "v": null}
s {"k": "a", "v": 4.5}
s {"k": "b"}
-- output
{"k": "a", "mean": 1, "n": 1}
{"k": "a", "mean": 1.5, "n": 2}
{"k": "a", "mean": 1.5, "n": 3}
{"k": "a", "mean": 2.5, "n": 4}
{"k": "b", "mean": null, "n": 1}
