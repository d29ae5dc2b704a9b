-- A value that cannot be cast makes that column NULL (projection) or drops the row (WHERE); both are counted.
SELECT v::INTEGER AS i FROM s WHERE v::INTEGER >= 0 OR v = 'keep' EMIT CHANGES;
-- input
s {"v": "12"}
s {"v": "nope"}
s {"v": "keep"}
-- output
{"i": 12}
-- stats {"evalErrors": 2}
