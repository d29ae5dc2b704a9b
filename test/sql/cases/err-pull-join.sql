-- fail: a query without EMIT CHANGES reads one view: joins and time windows are not supported there at line 1, column 17
SELECT * FROM a JOIN b ON a.k = b.k WITHIN (INTERVAL 1 SECOND);
