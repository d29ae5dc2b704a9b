-- Numeric functions; ROUND rounds half away from zero (upstream rounds half to even, fix 17);
-- SQRT of a negative number is an error (the column is NULL), not NaN.
SELECT ABS(a) AS abs_a, CEIL(b) AS ceil_b, FLOOR(b) AS floor_b, ROUND(2.5) AS r1, ROUND(-2.5) AS r2, SIGN(a) AS sign_a, SQRT(16) AS root, LOG10(1000) AS lg, SQRT(a) AS bad FROM s EMIT CHANGES;
-- input
s {"a": -3, "b": 1.25}
-- output
{"abs_a": 3, "ceil_b": 2, "floor_b": 1, "r1": 3, "r2": -3, "sign_a": -1, "root": 4, "lg": 3, "bad": null}
-- stats {"evalErrors": 1}
