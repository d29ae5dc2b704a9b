-- fail: syntax error at end of file: expected a ";" at the end of a statement at line 1, column 39
-- Every statement ends with ";" (upstream: "syntax error at end of file").
SELECT * FROM demo WHERE humidity > 70   
