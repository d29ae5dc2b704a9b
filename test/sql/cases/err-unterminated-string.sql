-- fail: unterminated string literal (strings are written in single quotes and have no escapes) at line 1, column 27
SELECT * FROM s WHERE a = 'oops;
