-- Array functions (upstream's SQL docs).
SELECT ARRAY_CONTAIN(a, 2) AS has2, ARRAY_DISTINCT(a) AS dist, ARRAY_EXCEPT(a, {1}) AS exc, ARRAY_INTERSECT(a, {3, 2}) AS inter, ARRAY_UNION(a, {9}) AS uni, ARRAY_REMOVE(a, 1) AS rem, ARRAY_LENGTH(a) AS len, ARRAY_JOIN(a) AS j, ARRAY_JOIN(a, '-') AS j2, ARRAY_MAX(a) AS mx, ARRAY_MIN(a) AS mn, ARRAY_SORT(a) AS sorted FROM s EMIT CHANGES;
-- input
s {"a": [3, 1, 2, 1]}
-- output
{"has2": true, "dist": [3, 1, 2], "exc": [3, 2], "inter": [3, 2], "uni": [3, 1, 2, 9], "rem": [3, 2], "len": 4, "j": "3,1,2,1", "j2": "3-1-2-1", "mx": 3, "mn": 1, "sorted": [1, 1, 2, 3]}
