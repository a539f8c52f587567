-- Messages are indexed for search once per transaction, by the transaction that inserts them
-- (`INDEX_MESSAGES_AFTER` in crates/store/src/lib.rs: the writer after each batch, the seed after
-- each chunk), not by a trigger per row: FTS5 flushes its pending index at every statement, and
-- the trigger cost about a third of the writer's throughput (docs/benchmarks.md).
DROP TRIGGER IF EXISTS messages_fts_insert;
