-- fail: Number of fields should match expressions at line 1, column 22
INSERT INTO s (a, b) VALUES (1);
