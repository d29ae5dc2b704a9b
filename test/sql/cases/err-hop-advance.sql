-- fail: a HOP window cannot advance by more than its size at line 1, column 48
SELECT COUNT(*) FROM HOP(s, INTERVAL 1 SECOND, INTERVAL 2 SECOND) GROUP BY k EMIT CHANGES;
