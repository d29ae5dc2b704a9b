-- fail: syntax error: expected ON, USING (a join needs a condition; use CROSS JOIN or NATURAL JOIN for none), found keyword WITHIN at line 1, column 24
SELECT * FROM a JOIN b WITHIN (INTERVAL 1 SECOND) EMIT CHANGES;
