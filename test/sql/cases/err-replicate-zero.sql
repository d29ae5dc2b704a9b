-- fail: Replicate factor can only be positive integers at line 1, column 35
CREATE STREAM s WITH (REPLICATE = 0);
