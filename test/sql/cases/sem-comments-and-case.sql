-- Comments (// and /* */), keyword case and whitespace do not matter; identifiers are case-sensitive.
select/* all */*from S // the stream
where Temp>=30 emit    changes;
-- input
S {"Temp": 30, "temp": 0}
S {"Temp": 29, "temp": 99}
-- output
{"Temp": 30, "temp": 0}
