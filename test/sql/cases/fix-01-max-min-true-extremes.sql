-- fix 1: upstream's MAX/MIN start from INTEGER 0 (MAX of negatives is 0, MIN of positives is 0).
-- We return the true extremes, for strings too.
SELECT k, MAX(v) AS mx, MIN(v) AS mn, MAX(name) AS last_name FROM s GROUP BY k EMIT CHANGES;
-- input
s {"k": "neg", "v": -5, "name": "bob"}
s {"k": "neg", "v": -2, "name": "alice"}
s {"k": "pos", "v": 7, "name": "carol"}
s {"k": "pos", "v": 3}
s {"k": "neg", "v": -9, "name": "dave"}
-- table key=k
{"k": "neg", "mx": -2, "mn": -9, "last_name": "dave"}
{"k": "pos", "mx": 7, "mn": 3, "last_name": "carol"}
