-- fail: Failed to parse `'2021-02-30'` ISO 8601 format DATE at line 1, column 13
SELECT DATE '2021-02-30' FROM s;
