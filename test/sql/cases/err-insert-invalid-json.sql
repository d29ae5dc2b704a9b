-- fail: Invalid JSON at line 1, column 22
INSERT INTO s VALUES '[1, 2]'::JSONB;
