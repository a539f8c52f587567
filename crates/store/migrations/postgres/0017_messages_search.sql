-- SQLite's copy drops its per-row index trigger: there, messages are indexed once per
-- transaction. PostgreSQL's index is a generated column (0011_search.sql) and stays as it is;
-- this copy keeps the two numberings in step.
SELECT 1;
