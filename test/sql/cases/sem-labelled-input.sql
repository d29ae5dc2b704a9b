-- Input fields with upstream's labels ({"$numberLong": …}, {"$date": …}) are read as typed values
-- (what upstream's own INSERT … VALUES writes); output is plain JSON except for typed values.
SELECT n + 1 AS n1, x * 2 AS x2, d, d = DATE '2021-08-07' AS same_day FROM s WHERE n > 4 EMIT CHANGES;
-- input
s {"n": {"$numberLong": "5"}, "x": {"$numberDouble": "1.5"}, "d": {"$date": "2021-08-07"}}
s {"n": {"$numberLong": "4"}, "x": 1, "d": null}
-- output
{"n1": 6, "x2": 3, "d": {"$date": "2021-08-07"}, "same_day": true}
