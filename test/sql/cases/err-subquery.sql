-- fail: Subquery is not supported yet at line 1, column 15
SELECT * FROM (SELECT * FROM s) EMIT CHANGES;
