-- fail: Nested set functions are not supported at line 1, column 12
SELECT SUM(MAX(a)) FROM s GROUP BY b EMIT CHANGES;
