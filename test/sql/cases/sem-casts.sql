-- Casts (upstream's SQL docs): to INTEGER floors, strings parse, BOOLEAN from text, CAST(NULL) is NULL.
SELECT a::INTEGER AS floor_a, CAST(s AS INTEGER) AS parsed, CAST(s AS FLOAT) AS f, 'T'::BOOLEAN AS t, CAST(n AS STRING) AS n_str, TO_STR(n) AS n_tostr, a::STRING AS a_str, CAST(d AS DATE) AS d, {1, 2}::STRING[] AS strs FROM x EMIT CHANGES;
-- input
x {"a": -1.5, "s": " 42 ", "n": null, "d": "2021-08-07"}
-- output
{"floor_a": -2, "parsed": 42, "f": 42, "t": true, "n_str": null, "n_tostr": "NULL", "a_str": "-1.5", "d": {"$date": "2021-08-07"}, "strs": ["1", "2"]}
