-- SQL guide (docs-next develop/process/sql.md), steps 4-5: the join view after all inserts;
-- `SELECT * FROM result` gives the documented rows (upstream labels the integers).
CREATE VIEW result AS SELECT info.category, MAX(visit.length) as max_length FROM info JOIN visit ON info.product = visit.product WITHIN (INTERVAL 1 HOUR) GROUP BY info.category;
-- input
info {"product": "Apple", "category": "Fruit"}
info {"product": "Banana", "category": "Fruit"}
info {"product": "Carrot", "category": "Vegetable"}
info {"product": "Potato", "category": "Vegetable"}
visit {"product": "Apple", "user": "Alice", "length": 10}
visit {"product": "Apple", "user": "Bob", "length": 20}
visit {"product": "Carrot", "user": "Bob", "length": 50}
visit {"product": "Banana", "user": "Alice", "length": 40}
visit {"product": "Potato", "user": "Eve", "length": 60}
-- output
{"category": "Fruit", "max_length": 10}
{"category": "Fruit", "max_length": 20}
{"category": "Vegetable", "max_length": 50}
{"category": "Fruit", "max_length": 40}
{"category": "Vegetable", "max_length": 60}
-- table key=category
{"category": "Fruit", "max_length": 40}
{"category": "Vegetable", "max_length": 60}
-- pull SELECT * FROM result;
{"category": "Fruit", "max_length": 40}
{"category": "Vegetable", "max_length": 60}
-- pull SELECT max_length FROM result WHERE category = 'Fruit';
{"max_length": 40}
