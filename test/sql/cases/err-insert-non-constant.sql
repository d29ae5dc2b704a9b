-- fail: INSERT only supports constant values at line 1, column 27
INSERT INTO s (a) VALUES (b);
