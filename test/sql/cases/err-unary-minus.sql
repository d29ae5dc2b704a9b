-- fail: syntax error: a sign is only allowed before a number (there is no unary - on expressions) at line 1, column 8
SELECT -a FROM s EMIT CHANGES;
