-- fail: the k of TOPK must be a positive integer constant at line 1, column 16
SELECT TOPK(a, b) FROM s GROUP BY c EMIT CHANGES;
