-- fail: syntax error: expected an expression, found keyword FROM at line 2, column 1
-- Positions are 1-based line and column of the offending token.
SELECT a,
FROM s EMIT CHANGES;
