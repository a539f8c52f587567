// The safe Markdown of agents' messages, and links in everyone's (src/shared/rich.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { inline, parse, plain, safeHref } from "../.unit/rich.mjs";

test("agents get bold, italics, code, links and lists", () => {
  const b = parse("**Hi** _there_, see `order 12` and [the FAQ](https://x.test/faq)\n\n- one\n- two\n1. first", true);
  assert.deepEqual(b, [
    {
      t: "p",
      c: [
        { t: "b", c: [{ t: "text", v: "Hi" }] },
        { t: "text", v: " " },
        { t: "i", c: [{ t: "text", v: "there" }] },
        { t: "text", v: ", see " },
        { t: "code", v: "order 12" },
        { t: "text", v: " and " },
        { t: "a", href: "https://x.test/faq", c: [{ t: "text", v: "the FAQ" }] },
      ],
    },
    { t: "ul", items: [[{ t: "text", v: "one" }], [{ t: "text", v: "two" }]] },
    { t: "ol", items: [[{ t: "text", v: "first" }]] },
  ]);
});

test("visitors get links only: their asterisks and brackets stay as typed", () => {
  const b = parse("**not bold** [x](https://evil.test) - no list\nsee https://shop.test/a?b=1.", false);
  assert.equal(b.length, 1);
  assert.equal(plain(b), "**not bold** [x](https://evil.test) - no list\nsee https://shop.test/a?b=1.");
  const links = b[0].c.filter((x) => x.t === "a");
  assert.deepEqual(
    links.map((a) => a.href),
    ["https://evil.test", "https://shop.test/a?b=1"],
  );
});

test("only http(s) and mailto links are ever made", () => {
  for (const bad of ["javascript:alert(1)", "data:text/html,<b>", "vbscript:x", "//evil.test", "https://a.test/\"onmouseover=x"]) {
    assert.equal(safeHref(bad), null, bad);
    // The Markdown link is refused; at most a plain web address inside it becomes a link.
    const links = inline(`[click](${bad})`, true).filter((x) => x.t === "a");
    assert.ok(links.every((a) => safeHref(a.href) === a.href && !a.href.includes('"')), bad);
  }
  assert.equal(safeHref("mailto:help@shop.test"), "mailto:help@shop.test");
});

test("markup characters never become elements", () => {
  const b = parse('<img src=x onerror=alert(1)> <script>x</script> & "quotes"', true);
  assert.equal(plain(b), '<img src=x onerror=alert(1)> <script>x</script> & "quotes"');
  assert.ok(b.every((x) => x.t === "p" && x.c.every((i) => i.t === "text")));
});

test("unclosed markers stay as typed, and snake_case is not italics", () => {
  assert.equal(plain(parse("**half bold and *half italic", true)), "**half bold and *half italic");
  assert.deepEqual(inline("file_name_here", true), [{ t: "text", v: "file_name_here" }]);
  assert.deepEqual(inline("2 * 3 * 4", true), [{ t: "text", v: "2 * 3 * 4" }]);
});

test("random input never throws and keeps every visible character", () => {
  const alphabet = "ab *_`[]()-1.\n:/htps<>&\"'x";
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n < 3000; n++) {
    let s = "";
    const len = Math.floor(rand() * 40);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    for (const md of [true, false]) {
      const b = parse(s, md);
      const letters = (t) => t.replace(/[^a-z0-9<>&"']/gi, "");
      if (!md) assert.equal(plain(b), s);
      // Markup may be eaten, never the words themselves.
      assert.ok(letters(s).includes(letters(plain(b))) || letters(plain(b)).length <= letters(s).length, s);
    }
  }
});
