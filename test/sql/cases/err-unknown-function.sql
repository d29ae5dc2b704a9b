-- fail: unknown function LENGTH at line 1, column 8
SELECT LENGTH(name) FROM s EMIT CHANGES;
