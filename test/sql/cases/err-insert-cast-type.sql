-- fail: Insert RawRecord or HRecord syntax only supports string literals to be casted to `BYTEA` or `JSONB` at line 1, column 22
INSERT INTO s VALUES '{}' :: STRING;
