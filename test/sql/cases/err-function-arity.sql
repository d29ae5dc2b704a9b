-- fail: ABS takes 1 argument, got 2 at line 1, column 8
SELECT ABS(a, b) FROM s EMIT CHANGES;
