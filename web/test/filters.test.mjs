// The inbox filter's rules (src/app/filter-rules.ts): what the URL says, the API query it makes,
// and the client-side match that must agree with the server's.
import assert from "node:assert/strict";
import { test } from "node:test";
import { activeKeys, filterQuery, matchesFilters, parseFilters } from "../.unit/filters.mjs";

const ID = "0190a000-0000-7000-8000-000000000001";
const OTHER = "0190a000-0000-7000-8000-000000000002";

test("the URL's query keeps only well-formed filters", () => {
  const f = parseFilters(`?tag=${ID.toUpperCase()}&team=nope&priority=urgent&date=created&from=2025-05-01&to=2025-05-07&x=1`);
  assert.deepEqual(f, { tag: ID, priority: "urgent", date: "created", from: "2025-05-01", to: "2025-05-07" });
  assert.deepEqual(parseFilters("?priority=low&from=yesterday&assignee=' OR 1=1"), {});
  // An empty range would be refused by the server: the end is dropped.
  assert.deepEqual(parseFilters("?from=2025-05-07&to=2025-05-01"), { from: "2025-05-07" });
  // The date field alone narrows nothing.
  assert.deepEqual(activeKeys(parseFilters("?date=created")), []);
  assert.deepEqual(activeKeys(f), ["tag", "priority", "from", "to"]);
});

test("dates become a [from, to) range of whole local days in ms", () => {
  const q = filterQuery(parseFilters("?from=2025-05-01&to=2025-05-07&website=" + ID));
  assert.equal(q.website, ID);
  assert.equal(q.date, "activity");
  assert.equal(Number(q.from), new Date(2025, 4, 1).getTime());
  assert.equal(Number(q.to), new Date(2025, 4, 8).getTime());
  assert.deepEqual(filterQuery({}), {});
  assert.deepEqual(filterQuery({ date: "created" }), {}, "no dates, no date field");
});

test("the client-side match agrees with the filter", () => {
  const c = {
    tags: [{ id: ID, name: "vip", color: "blue" }],
    team_id: ID,
    assignee_id: null,
    website_id: ID,
    priority: "high",
    created_at: new Date(2025, 4, 1, 12).getTime(),
    updated_at: new Date(2025, 4, 9, 12).getTime(),
  };
  assert.ok(matchesFilters(c, {}));
  assert.ok(matchesFilters(c, { tag: ID, team: ID, website: ID, priority: "high" }));
  assert.ok(!matchesFilters(c, { tag: OTHER }));
  assert.ok(!matchesFilters(c, { assignee: ID }));
  assert.ok(!matchesFilters(c, { priority: "urgent" }));
  assert.ok(matchesFilters(c, { date: "created", from: "2025-05-01", to: "2025-05-01" }), "the to day is included");
  assert.ok(!matchesFilters(c, { from: "2025-05-01", to: "2025-05-08" }), "last activity on the 9th");
  assert.ok(matchesFilters(c, { from: "2025-05-09" }));
});
