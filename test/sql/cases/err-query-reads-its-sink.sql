-- fail: a query cannot write to the stream it reads: s is one of its sources at line 1, column 15
INSERT INTO s SELECT * FROM s;
