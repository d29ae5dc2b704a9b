-- SQL guide (docs-next develop/process/sql.md), step 2: every record of `info`.
SELECT * FROM info EMIT CHANGES;
-- input
info {"product": "Apple", "category": "Fruit"}
-- output
{"category": "Fruit", "product": "Apple"}
