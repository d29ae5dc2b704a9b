-- fail: GROUP BY clause does not allow wildcards at line 1, column 8
SELECT *, COUNT(*) FROM s GROUP BY k EMIT CHANGES;
