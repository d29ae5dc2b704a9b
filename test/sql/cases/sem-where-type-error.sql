-- Comparing values of different types is an error: WHERE drops the row (and counts it); it never stops the query.
SELECT * FROM s WHERE humidity > 70 EMIT CHANGES;
-- input
s {"humidity": "very"}
s {"humidity": 80}
s {"humidity": [1]}
-- output
{"humidity": 80}
-- stats {"evalErrors": 2}
