-- fail: Aggregate functions are not allowed in WHERE clause at line 1, column 23
SELECT a FROM s WHERE COUNT(*) > 1 EMIT CHANGES;
