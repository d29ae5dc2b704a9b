-- fail: time windows cannot be combined with joins at line 1, column 29
SELECT COUNT(*) FROM a JOIN TUMBLE(b, INTERVAL 1 SECOND) ON a.k = b.k WITHIN (INTERVAL 1 SECOND) GROUP BY a.k EMIT CHANGES;
