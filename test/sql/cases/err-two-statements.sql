-- fail: syntax error: only one statement is allowed per request at line 1, column 31
SELECT * FROM s EMIT CHANGES; SELECT 1;
