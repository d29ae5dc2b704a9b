-- fail: Cannot compare a String with an Integer at line 1, column 27
SELECT * FROM s WHERE 'a' = 1 EMIT CHANGES;
