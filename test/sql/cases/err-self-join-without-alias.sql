-- fail: s appears more than once in FROM; give each occurrence an alias at line 1, column 27
SELECT * FROM s JOIN s ON s.k = s.k WITHIN (INTERVAL 1 SECOND) EMIT CHANGES;
