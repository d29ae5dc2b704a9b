-- SQL guide (docs-next develop/process/sql.md), step 3: the longest visit per product, as a changelog.
SELECT product, MAX(length) AS max_len FROM visit GROUP BY product EMIT CHANGES;
-- input
visit {"product": "Apple", "user": "Alice", "length": 10}
visit {"product": "Apple", "user": "Bob", "length": 20}
visit {"product": "Apple", "user": "Caleb", "length": 10}
-- output
{"max_len": 10, "product": "Apple"}
{"max_len": 20, "product": "Apple"}
{"max_len": 20, "product": "Apple"}
-- table key=product
{"product": "Apple", "max_len": 20}
-- view
{"product": "Apple", "max_len": 20}
