-- fail: syntax error: expected "(" after COUNT (COUNT is a reserved word; write a column of that name in double quotes: "count"), found keyword FROM at line 1, column 14
SELECT count FROM s EMIT CHANGES;
