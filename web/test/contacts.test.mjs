// The contacts views' rules (src/app/contact-rules.ts): the Contacts page's filters as the URL
// keeps them and the API query they make, and the profile form's PATCH body.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  attributeKey,
  contactFiltersSearch,
  contactQuery,
  formOf,
  hasContactFilters,
  parseContactFilters,
  profilePatch,
  rowsOf,
  showValue,
} from "../.unit/contacts.mjs";

const ID = "0190a000-0000-7000-8000-000000000001";

test("the URL keeps only well-formed filters, and round-trips them", () => {
  const f = parseContactFilters(`?q=%20Ann%20&website=${ID.toUpperCase()}&email=yes&seen=7d&attr=Plan%3Dpro&x=1`);
  assert.deepEqual(f, { q: "Ann", website: ID, email: "yes", seen: "7d", attrKey: "plan", attrValue: "pro" });
  assert.deepEqual(parseContactFilters(contactFiltersSearch(f)), f);
  assert.deepEqual(parseContactFilters("?website=nope&email=maybe&seen=1y&attr=bad%20key%3Dx&attr2=y"), {});
  assert.deepEqual(parseContactFilters("?attr=plan%3D"), {}, "an attribute without a value narrows nothing");
  assert.equal(contactFiltersSearch({}), "");
  assert.equal(hasContactFilters({}), false);
  assert.equal(hasContactFilters({ email: "no" }), true);
});

test("filters become the API's query", () => {
  const now = 1_700_000_000_000;
  const q = new URLSearchParams(
    contactQuery({ q: "ann lee", website: ID, email: "no", seen: "24h", attrKey: "plan", attrValue: "pro" }, now, "5_" + ID, 20),
  );
  assert.equal(q.get("q"), "ann lee");
  assert.equal(q.get("website"), ID);
  assert.equal(q.get("has_email"), "false");
  assert.equal(q.get("seen_after"), String(now - 86_400_000));
  assert.equal(q.get("attr.plan"), "pro");
  assert.equal(q.get("cursor"), "5_" + ID);
  assert.equal(q.get("limit"), "20");
  assert.equal(contactQuery({}, now), "?limit=50");
});

test("attribute names follow the server's rule", () => {
  assert.equal(attributeKey(" Plan_2 "), "plan_2");
  assert.equal(attributeKey("a-b"), null);
  assert.equal(attributeKey(""), null);
  assert.equal(attributeKey("x".repeat(41)), null);
  assert.equal(showValue(true), "Yes");
  assert.equal(showValue(false), "No");
  assert.equal(showValue(2.5), "2.5");
  assert.deepEqual(rowsOf({ vip: true, seats: 3, plan: "pro" }), [
    { key: "vip", type: "boolean", value: "true" },
    { key: "seats", type: "number", value: "3" },
    { key: "plan", type: "text", value: "pro" },
  ]);
});

const profile = {
  id: ID,
  website_id: ID,
  website_name: "Shop",
  name: "Ann",
  email: null,
  phone: "+1 555",
  company: "Acme",
  attributes: { plan: "pro", seats: 3, vip: true },
  created_at: 0,
  last_seen_at: 0,
  conversation_count: 1,
};

test("the form sends only what changed, attributes as a merge patch", () => {
  const form = formOf(profile);
  assert.deepEqual(profilePatch(profile, form), { body: {} }, "nothing changed");
  form.name = " Ann Lee ";
  form.company = "";
  form.rows = [
    { key: "plan", type: "text", value: "team" }, // changed
    { key: "Seats", type: "number", value: "3" }, // same value, capital lowered
    { key: "tier", type: "boolean", value: "false" }, // new (vip removed)
    { key: "", type: "text", value: "" }, // an empty new row
    { key: "note", type: "text", value: "  " }, // blank text: not kept
  ];
  assert.deepEqual(profilePatch(profile, form), {
    body: { name: "Ann Lee", company: "", attributes: { vip: null, plan: "team", tier: false } },
  });
});

test("the form refuses what the server would", () => {
  const bad = (rows) => profilePatch(profile, { ...formOf(profile), rows });
  assert.match(bad([{ key: "bad key", type: "text", value: "x" }]).error, /not an attribute name/);
  assert.match(bad([{ key: "", type: "text", value: "x" }]).error, /not an attribute name/);
  assert.match(
    bad([
      { key: "plan", type: "text", value: "a" },
      { key: "PLAN", type: "text", value: "b" },
    ]).error,
    /twice/,
  );
  assert.match(bad([{ key: "seats", type: "number", value: "three" }]).error, /not a number/);
  assert.match(bad([{ key: "seats", type: "number", value: "" }]).error, /not a number/);
});
