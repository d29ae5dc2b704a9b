-- fail: unknown stream or alias t at line 1, column 8
SELECT t.a FROM s EMIT CHANGES;
