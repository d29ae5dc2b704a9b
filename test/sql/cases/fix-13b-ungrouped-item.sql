-- fail: Select item a does not appear in the GROUP BY clause and is not inside an aggregate function at line 1, column 8
-- fix 13: upstream silently drops select items that are neither grouped nor aggregated. Ours refuses them.
SELECT a, SUM(a), COUNT(*) FROM s1 GROUP BY b EMIT CHANGES;
