-- fail: s is known by its alias x here at line 1, column 8
SELECT s.a FROM s AS x EMIT CHANGES;
