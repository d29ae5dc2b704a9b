-- fail: syntax error: expected WITHIN (INTERVAL n UNIT) (every stream join is windowed), found keyword EMIT at line 1, column 39
SELECT * FROM a JOIN b ON a.id = b.id EMIT CHANGES;
