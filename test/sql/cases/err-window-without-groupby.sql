-- fail: Time window function `TUMBLE` requires a `GROUP BY` CLAUSE at line 1, column 27
SELECT COUNT(*) AS n FROM TUMBLE(s, INTERVAL 1 MINUTE) EMIT CHANGES;
