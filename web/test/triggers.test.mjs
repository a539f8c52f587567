// The widget's trigger evaluator (src/widget/triggers.ts) against the Rust core's: every case in
// trigger-cases.json was written by `cargo test -p frontdesk-core` (triggers::tests::
// export_cases_for_the_widget) with the result crates/core/src/triggers.rs gave.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { evaluate, holds, urlMatches } from "../.unit/triggers.mjs";

const cases = JSON.parse(readFileSync(new URL("./trigger-cases.json", import.meta.url), "utf8"));

test("the TypeScript evaluator agrees with the Rust core on every shared case", () => {
  assert.ok(cases.length >= 400);
  let fired = 0;
  for (const [i, c] of cases.entries()) {
    const got = evaluate(c.site, c.facts, c.state);
    assert.deepEqual(got, c.fire, `case ${i}: ${JSON.stringify(c)}`);
    if (got) fired++;
  }
  assert.ok(fired > 50, "the cases include greetings that fire");
});

test("patterns and path conditions, as in the Rust unit tests", () => {
  assert.ok(urlMatches("/pri*", "/pricing"));
  assert.ok(urlMatches("*://SHOP.test/*", "https://shop.test/a"));
  assert.ok(!urlMatches("/docs/*", "/pricing"));
  assert.ok(urlMatches("a**", "a"));
  const f = { url: "https://shop.test/pricing?plan=pro", path: "/pricing?plan=pro", referrer: "https://www.Google.com/", utm: { source: "News" } };
  assert.ok(holds({ type: "url", how: "prefix", value: "/PRICING" }, f));
  assert.ok(!holds({ type: "url", how: "exact", value: "/pricing" }, f));
  assert.ok(holds({ type: "url", how: "exact", value: "https://shop.test/pricing?plan=pro" }, f));
  assert.ok(holds({ type: "referrer", how: "contains", value: "google.COM" }, f));
  assert.ok(holds({ type: "utm", key: "source", value: "news" }, f));
  assert.ok(!holds({ type: "utm", key: "medium", value: "news" }, f));
  assert.ok(!holds({ type: "exit_intent" }, { exit_intent: true, desktop: false }));
});
