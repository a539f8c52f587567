// The widget's string tables (web/src/widget/i18n.ts, locales.ts): every language has every
// English key, with the same {placeholders}, and nothing else; choosing a language by tag.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EN, TABLES, direction, setLanguage, t } from "../.unit/i18n.mjs";

const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("every table has every English key with the same placeholders", () => {
  const keys = Object.keys(EN);
  for (const [lang, table] of Object.entries(TABLES)) {
    for (const k of keys) {
      assert.equal(typeof table[k], "string", `${lang} lacks ${k}`);
      assert.ok(table[k].trim().length > 0, `${lang} has an empty ${k}`);
      assert.deepEqual(holes(table[k]), holes(EN[k]), `${lang}: ${k} has other placeholders`);
    }
    for (const k of Object.keys(table)) assert.ok(k in EN, `${lang} has ${k}, which English has not`);
  }
});

test("the five languages and Arabic are there, and translated", () => {
  for (const lang of ["de", "fr", "es", "pt", "ar"]) {
    assert.ok(TABLES[lang], lang);
    assert.notEqual(TABLES[lang]["composer.placeholder"], EN["composer.placeholder"], lang);
  }
});

test("a tag picks its base language; unknown ones get English; Arabic is right to left", () => {
  assert.equal(setLanguage("de-AT"), "de");
  assert.equal(t("queue.position", { n: 3 }), "Sie sind Nummer 3 in der Warteschlange");
  assert.equal(direction(), "ltr");
  assert.equal(setLanguage("ar"), "ar");
  assert.equal(direction(), "rtl");
  assert.equal(setLanguage("xx-YY"), "en");
  assert.equal(setLanguage(null), "en");
  assert.equal(t("chat.typing", { name: "<b>Ann</b>" }), "<b>Ann</b> is typing…");
});
