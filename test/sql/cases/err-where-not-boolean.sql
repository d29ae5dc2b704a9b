-- fail: WHERE expects a Boolean expression but got an Integer at line 1, column 23
SELECT * FROM s WHERE 1 EMIT CHANGES;
