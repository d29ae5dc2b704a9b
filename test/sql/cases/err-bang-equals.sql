-- fail: unexpected "!=" (the not-equal operator is <>) at line 1, column 25
SELECT * FROM s WHERE a != 1 EMIT CHANGES;
