-- fail: TO_UPPER expects a String but got an Integer at line 1, column 17
SELECT TO_UPPER(1) FROM s EMIT CHANGES;
