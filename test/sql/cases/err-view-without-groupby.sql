-- fail: Create View requires a group by clause at line 1, column 18
CREATE VIEW v AS SELECT * FROM s;
