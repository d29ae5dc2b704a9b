-- fail: EXPLAIN can not give any execution plan for CREATE STREAM without a SELECT clause at line 1, column 9
EXPLAIN CREATE STREAM s;
