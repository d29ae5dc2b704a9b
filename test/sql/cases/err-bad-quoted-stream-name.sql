-- fail: Invalid identifier "1abc", please refer to the document at line 1, column 15
SELECT * FROM "1abc" EMIT CHANGES;
