-- SQL guide (docs-next develop/process/sql.md), steps 4-5: the join view after the first seven inserts.
CREATE VIEW result AS SELECT info.category, MAX(visit.length) as max_length FROM info JOIN visit ON info.product = visit.product WITHIN (INTERVAL 1 HOUR) GROUP BY info.category;
-- input
info {"product": "Apple", "category": "Fruit"}
info {"product": "Banana", "category": "Fruit"}
info {"product": "Carrot", "category": "Vegetable"}
info {"product": "Potato", "category": "Vegetable"}
visit {"product": "Apple", "user": "Alice", "length": 10}
visit {"product": "Apple", "user": "Bob", "length": 20}
visit {"product": "Carrot", "user": "Bob", "length": 50}
-- view
{"category": "Fruit", "max_length": 20}
{"category": "Vegetable", "max_length": 50}
-- pull SELECT * FROM result;
{"category": "Fruit", "max_length": 20}
{"category": "Vegetable", "max_length": 50}
