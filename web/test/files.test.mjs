// Sizes as people read them, matching the server's (crates/core/src/files.rs human_size).
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileSize } from "../.unit/files.mjs";

test("sizes are bytes, KB or MB in powers of 1024", () => {
  assert.equal(fileSize(12), "12 bytes");
  assert.equal(fileSize(2047), "2 KB");
  assert.equal(fileSize(1536 * 1024), "1.5 MB");
  assert.equal(fileSize(10 * 1024 * 1024), "10 MB");
});
