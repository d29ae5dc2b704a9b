-- fail: Expected a numeric expression but got a String at line 1, column 8
SELECT 'a' + 1 FROM s EMIT CHANGES;
