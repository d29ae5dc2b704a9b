-- IFNULL, NULLIF, IS_* (never NULL) and NULL propagation through functions.
SELECT IFNULL(a, 0) AS a0, NULLIF(b, 5) AS b_or_null, IS_INT(a) AS a_int, IS_NUM(c) AS c_num, IS_STR(c) AS c_str, TO_UPPER(a) AS up FROM s EMIT CHANGES;
-- input
s {"b": 5, "c": "x"}
s {"a": 2, "b": 6, "c": 1.5}
-- output
{"a0": 0, "b_or_null": null, "a_int": false, "c_num": false, "c_str": true, "up": null}
{"a0": 2, "b_or_null": 6, "a_int": true, "c_num": true, "c_str": false, "up": null}
-- stats {"evalErrors": 1}
