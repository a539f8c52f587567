//! Search: what an agent types, made into a safe full-text query, and a matched text cut into a
//! snippet with its hits marked.
//!
//! Nothing typed reaches a database's query language. [`SearchQuery::parse`] folds the input
//! (lower case, Latin letters without their diacritics) and keeps only runs of letters and
//! digits; the store builds its FTS5 or `tsquery` expression from those runs alone
//! ([`SearchQuery::fts5`], [`SearchQuery::tsquery`]). So `"`, `AND (`, `*` or `'` are just
//! separators, and a query with no letter or digit is [`SearchError::Empty`].
//!
//! Words are ANDed. A word that punctuation splits (`ann@example.com`, `555-0100`) is a phrase
//! of its parts, in order. The last part typed is a prefix (`hel` finds "hello"), so results
//! follow typing.
//!
//! Both databases index text folded the same way as [`fold`]: SQLite's `unicode61
//! remove_diacritics 2` tokenizer does it itself; on PostgreSQL, `fd_search_text` in the
//! `0011_search.sql` migration translates the characters [`postgres_fold_table`] lists (a test
//! checks that the migration holds exactly that table).
//!
//! Snippets are segments of plain text with a `hit` flag ([`Segment`]), never markup: clients
//! render each as a text node.

use crate::Millis;
use crate::conversation::ConversationStatus;
use crate::ids::{ContactId, ConversationId};
use crate::protocol::MessageKind;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

/// Most characters a search may have.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Most words (letter and digit runs) a search may have; each one is an index lookup.
pub const MAX_SEARCH_TERMS: usize = 16;
/// Results of each kind by default, and at most.
pub const DEFAULT_SEARCH_LIMIT: i64 = 20;
pub const MAX_SEARCH_LIMIT: i64 = 50;
/// Characters of a message's text shown around its first hit.
pub const SNIPPET_CHARS: usize = 160;

/// Why a search was refused (`invalid_search`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SearchError {
    #[error("type a word to search for")]
    Empty,
    #[error("a search is at most {MAX_SEARCH_CHARS} characters")]
    TooLong,
    #[error("a search is at most {MAX_SEARCH_TERMS} words")]
    TooManyTerms,
    #[error("limit must be a whole number from 1 to {MAX_SEARCH_LIMIT}")]
    BadLimit,
}

/// `GET /api/v1/search`'s query, as sent; checked by [`SearchQuery::parse`] and
/// [`search_limit`]. Unknown parameters are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, optional_fields)]
pub struct SearchParams {
    pub q: Option<String>,
    /// Results of each kind: 20 by default, at most 50.
    pub limit: Option<String>,
}

/// The number of results of each kind asked for.
pub fn search_limit(p: &SearchParams) -> Result<i64, SearchError> {
    match p.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_SEARCH_LIMIT),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=MAX_SEARCH_LIMIT).contains(&n) => Ok(n),
            _ => Err(SearchError::BadLimit),
        },
    }
}

/// A piece of a snippet: plain text, and whether it is a match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// A conversation with a message that matches: its best one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConversationHit {
    pub conversation_id: ConversationId,
    pub contact_id: ContactId,
    pub contact_name: Option<String>,
    pub status: ConversationStatus,
    /// `visitor`, `agent` or `note` (system messages are not searched).
    pub message_kind: MessageKind,
    /// The matching message around its first hit.
    pub snippet: Vec<Segment>,
    /// When the matching message was written.
    #[ts(type = "number")]
    pub message_at: Millis,
    /// When the conversation started.
    #[ts(type = "number")]
    pub created_at: Millis,
}

/// A contact whose name, email, phone or company matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactHit {
    pub id: ContactId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// Name, email, phone and company, with the matches marked.
    pub snippet: Vec<Segment>,
    /// The contact's latest conversation, if they have one.
    pub latest_conversation_id: Option<ConversationId>,
    #[ts(type = "number")]
    pub last_seen_at: Millis,
}

/// `GET /api/v1/search`: best matches first, the most recent first among equals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SearchResults {
    pub conversations: Vec<ConversationHit>,
    pub contacts: Vec<ContactHit>,
}

/// A parsed search: words, each a phrase of one or more folded letter-and-digit runs. The last
/// run of the last word is matched as a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<Vec<String>>,
}

impl SearchQuery {
    pub fn parse(raw: &str) -> Result<Self, SearchError> {
        if raw.chars().count() > MAX_SEARCH_CHARS {
            return Err(SearchError::TooLong);
        }
        let words: Vec<Vec<String>> = raw
            .split_whitespace()
            .map(|w| {
                fold(w)
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Err(SearchError::Empty);
        }
        if words.iter().map(Vec::len).sum::<usize>() > MAX_SEARCH_TERMS {
            return Err(SearchError::TooManyTerms);
        }
        Ok(Self { words })
    }

    /// Every run, in order; the last is the prefix.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.words.iter().flatten().map(String::as_str)
    }

    fn prefix(&self) -> &str {
        self.words
            .last()
            .and_then(|w| w.last())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// An FTS5 expression (without a column filter): `"ann example com" AND "hel"*`. Each
    /// phrase is a quoted string of letter-and-digit runs, so nothing in it is syntax.
    pub fn fts5(&self) -> String {
        let last = self.words.len() - 1;
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let phrase = w.join(" ").replace('"', "\"\"");
                if i == last {
                    format!("\"{phrase}\"*")
                } else {
                    format!("\"{phrase}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// A PostgreSQL `to_tsquery` text: `'ann' <-> 'example' <-> 'com' & 'hel':*`.
    pub fn tsquery(&self) -> String {
        let last = self.words.len() - 1;
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let n = w.len() - 1;
                let parts: Vec<String> = w
                    .iter()
                    .enumerate()
                    .map(|(j, t)| {
                        let t = t.replace('\\', "\\\\").replace('\'', "''");
                        if i == last && j == n {
                            format!("'{t}':*")
                        } else {
                            format!("'{t}'")
                        }
                    })
                    .collect();
                let phrase = parts.join(" <-> ");
                if w.len() > 1 {
                    format!("({phrase})")
                } else {
                    phrase
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// Whether a folded word is one of the query's runs (or starts with the prefix).
    fn matches(&self, folded: &str) -> bool {
        if folded.is_empty() {
            return false;
        }
        let prefix = self.prefix();
        folded.starts_with(prefix) || self.terms().any(|t| t == folded)
    }

    /// How well `text` matches, for ranking: BM25's weighting of each of the query's runs
    /// (more occurrences count, with diminishing returns; a long text counts less), summed.
    /// Without BM25's inverse document frequency: every candidate matches every run, and
    /// computing it costs a pass over all of a run's matches in the index (see
    /// `docs/benchmarks.md`). 0 when nothing matches.
    pub fn score(&self, text: &str) -> f64 {
        const K1: f64 = 1.2;
        const B: f64 = 0.75;
        /// A typical chat message, in words.
        const AVERAGE_WORDS: f64 = 24.0;
        let terms: Vec<&str> = self.terms().collect();
        let last = terms.len() - 1;
        let mut tf = vec![0u32; terms.len()];
        let mut len = 0u32;
        for (s, e) in words(text) {
            len += 1;
            let w = fold(&text[s..e]);
            for (i, t) in terms.iter().enumerate() {
                if w == *t || (i == last && w.starts_with(t)) {
                    tf[i] += 1;
                }
            }
        }
        let norm = K1 * (1.0 - B + B * f64::from(len) / AVERAGE_WORDS);
        tf.iter()
            .map(|&n| f64::from(n) * (K1 + 1.0) / (f64::from(n) + norm))
            .sum()
    }

    /// `text` around its first match, at most `max_chars` characters of it (plus an ellipsis
    /// at a cut end), as segments; whitespace runs become one space. Without a match, the
    /// start of the text.
    pub fn snippet(&self, text: &str, max_chars: usize) -> Vec<Segment> {
        let words = words(text);
        let hits: Vec<bool> = words
            .iter()
            .map(|&(s, e)| self.matches(&fold(&text[s..e])))
            .collect();
        // Character offsets are what the window counts in.
        let char_at = |byte: usize| text[..byte].chars().count();
        let total = text.chars().count();
        let first = words
            .iter()
            .zip(&hits)
            .find(|(_, h)| **h)
            .map(|(&(s, _), _)| char_at(s));
        let lead = max_chars / 4;
        let mut start = first.map_or(0, |f| f.saturating_sub(lead));
        // Nearer the end than a full window: show the full window up to the end.
        if total > max_chars && start + max_chars > total {
            start = total - max_chars;
        }
        let mut end = (start + max_chars).min(total);
        // Cut at a word's edge when one is close.
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        if start > 0
            && let Some(k) =
                (start..(start + 12).min(end)).find(|&k| chars[k - 1].1.is_whitespace())
            && first.is_none_or(|f| k <= f)
        {
            start = k;
        }
        if end < total
            && let Some(k) = (end.saturating_sub(12).max(start + 1)..end)
                .rev()
                .find(|&k| chars[k].1.is_whitespace())
            && first.is_none_or(|f| k > f)
        {
            end = k;
        }
        let byte = |c: usize| chars.get(c).map_or(text.len(), |&(b, _)| b);
        let (from, to) = (byte(start), byte(end));

        let mut out: Vec<Segment> = Vec::new();
        let mut after_space = false;
        let mut push = |s: &str, hit: bool| {
            let mut t = String::with_capacity(s.len());
            for c in s.chars() {
                if !c.is_whitespace() {
                    t.push(c);
                    after_space = false;
                } else if !after_space {
                    t.push(' ');
                    after_space = true;
                }
            }
            if t.is_empty() {
                return;
            }
            match out.last_mut() {
                Some(l) if l.hit == hit => l.text.push_str(&t),
                _ => out.push(Segment { text: t, hit }),
            }
        };
        if start > 0 {
            push("…", false);
        }
        let mut at = from;
        for (&(s, e), &hit) in words.iter().zip(&hits) {
            if !hit || e <= from || s >= to {
                continue;
            }
            let (s, e) = (s.max(from), e.min(to));
            push(&text[at..s], false);
            push(&text[s..e], true);
            at = e;
        }
        push(&text[at..to], false);
        if end < total {
            push("…", false);
        }
        out
    }
}

/// The byte ranges of the words of `text`: runs of characters that fold to letters or digits
/// (a combining mark stays with the letter before it).
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut buf = String::new();
    for (i, c) in text.char_indices() {
        buf.clear();
        fold_into(c, &mut buf);
        let word = buf.chars().any(char::is_alphanumeric) || (start.is_some() && is_mark(c));
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// The combining diacritical marks, which folding drops.
fn is_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// Where folding takes diacritics off: Latin-1 Supplement, Latin Extended-A and -B, and Latin
/// Extended Additional (Vietnamese).
fn is_latin_range(c: char) -> bool {
    ('\u{c0}'..='\u{24f}').contains(&c) || ('\u{1e00}'..='\u{1eff}').contains(&c)
}

/// A Latin letter without its diacritics (`é` → `e`), when it is one letter with marks.
fn strip_marks(c: char) -> char {
    if !is_latin_range(c) {
        return c;
    }
    let mut base: Option<char> = None;
    let mut only_marks = true;
    unicode_normalization::char::decompose_canonical(c, |d| {
        if base.is_none() {
            base = Some(d);
        } else if !is_mark(d) {
            only_marks = false;
        }
    });
    match base {
        Some(b) if only_marks && b != c && b.is_ascii_alphanumeric() => b,
        _ => c,
    }
}

fn fold_into(c: char, out: &mut String) {
    for l in c.to_lowercase() {
        if !is_mark(l) {
            out.push(strip_marks(l));
        }
    }
}

/// Text as the search indexes see it: lower case, Latin letters without diacritics,
/// combining marks dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_into(c, &mut out);
    }
    out
}

/// Characters PostgreSQL's default text-search parser would join into one token (an email, a
/// host, a signed number, a path) where SQLite's tokenizer splits: `fd_search_text` makes
/// them spaces, so both databases see the same words.
pub const POSTGRES_SPLIT_CHARS: &str = "@./:_+-";

/// The `translate(…, from, to)` table of `fd_search_text`: every character of the folded
/// ranges that [`fold`] changes into one letter (upper-case ones too, whatever the database's
/// locale), then [`POSTGRES_SPLIT_CHARS`] to spaces; the combining marks, with no partner, are
/// deleted.
pub fn postgres_fold_table() -> (String, String) {
    let mut from = String::new();
    let mut to = String::new();
    for c in ('\u{c0}'..='\u{24f}').chain('\u{1e00}'..='\u{1eff}') {
        let f = fold(&c.to_string());
        let mut chars = f.chars();
        if let (Some(one), None) = (chars.next(), chars.next())
            && one != c
            && one.is_ascii()
        {
            from.push(c);
            to.push(one);
        }
    }
    for c in POSTGRES_SPLIT_CHARS.chars() {
        from.push(c);
        to.push(' ');
    }
    from.extend('\u{300}'..='\u{36f}');
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> SearchQuery {
        SearchQuery::parse(s).unwrap()
    }

    fn marked(segs: &[Segment]) -> String {
        segs.iter()
            .map(|s| {
                if s.hit {
                    format!("[{}]", s.text)
                } else {
                    s.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn empty_long_and_wordless_searches_are_refused() {
        assert_eq!(SearchQuery::parse(""), Err(SearchError::Empty));
        assert_eq!(SearchQuery::parse("   \n"), Err(SearchError::Empty));
        for hostile in [
            "\"", "*", "AND (", "'", "(", ")", "^", ":", "-", "\"*\"", "\0",
        ] {
            match SearchQuery::parse(hostile) {
                Err(SearchError::Empty) => {}
                Ok(s) => assert!(s.terms().all(|t| t.chars().all(char::is_alphanumeric))),
                Err(e) => panic!("{hostile:?}: {e}"),
            }
        }
        assert_eq!(
            SearchQuery::parse(&"a".repeat(MAX_SEARCH_CHARS + 1)),
            Err(SearchError::TooLong)
        );
        assert!(SearchQuery::parse(&"a".repeat(MAX_SEARCH_CHARS)).is_ok());
        assert_eq!(
            SearchQuery::parse(&"a ".repeat(MAX_SEARCH_TERMS + 1)),
            Err(SearchError::TooManyTerms)
        );
    }

    #[test]
    fn operators_are_words_and_punctuation_separates() {
        let s = q("AND ( refund");
        assert_eq!(s.terms().collect::<Vec<_>>(), ["and", "refund"]);
        assert_eq!(s.fts5(), "\"and\" AND \"refund\"*");
        assert_eq!(s.tsquery(), "'and' & 'refund':*");
        let s = q("ann@example.com 555-0100");
        assert_eq!(s.fts5(), "\"ann example com\" AND \"555 0100\"*");
        assert_eq!(
            s.tsquery(),
            "('ann' <-> 'example' <-> 'com') & ('555' <-> '0100':*)"
        );
        assert_eq!(q("O'Brien").tsquery(), "('o' <-> 'brien':*)");
    }

    #[test]
    fn folding_lowers_and_strips_latin_diacritics() {
        assert_eq!(
            fold("Café CRÈME Łódź Straße Ångström Tiếng"),
            "cafe creme łodz straße angstrom tieng"
        );
        // Decomposed input folds the same.
        assert_eq!(fold("Cafe\u{301}"), "cafe");
        assert_eq!(q("CAFÉ").terms().collect::<Vec<_>>(), ["cafe"]);
        // Other scripts are lowered only.
        assert_eq!(fold("Привет ΆΛΦΑ"), "привет άλφα");
    }

    #[test]
    fn limits() {
        let p = |l: &str| {
            search_limit(&SearchParams {
                q: None,
                limit: Some(l.into()),
            })
        };
        assert_eq!(search_limit(&SearchParams::default()), Ok(20));
        assert_eq!(p(""), Ok(20));
        assert_eq!(p("5"), Ok(5));
        assert_eq!(p("50"), Ok(50));
        assert_eq!(p("51"), Err(SearchError::BadLimit));
        assert_eq!(p("0"), Err(SearchError::BadLimit));
        assert_eq!(p("x"), Err(SearchError::BadLimit));
    }

    #[test]
    fn snippets_mark_words_and_the_prefix() {
        let s = q("refund ord");
        assert_eq!(
            marked(&s.snippet("Hi! I want a REFUND for my order #123, refunds too", 160)),
            "Hi! I want a [REFUND] for my [order] #123, refunds too"
        );
        // Diacritics and case fold on both sides.
        assert_eq!(
            marked(&q("creme").snippet("Crème brûlée", 160)),
            "[Crème] brûlée"
        );
        assert_eq!(
            marked(&q("brulee").snippet("Crème bru\u{302}lée", 160)),
            "Crème [bru\u{302}lée]"
        );
        // The parts of an address.
        assert_eq!(
            marked(&q("ann@example.com").snippet("write to ann@example.com", 160)),
            "write to [ann]@[example].[com]"
        );
    }

    #[test]
    fn scores_favour_more_matches_and_shorter_texts() {
        let s = q("refund ord");
        assert_eq!(s.score("nothing here"), 0.0);
        let one = s.score("refund please");
        assert!(s.score("refund refund order") > one);
        assert!(one > s.score(&format!("refund {}", "word ".repeat(60))));
        // The prefix counts, folded like everything else.
        assert!(s.score("REFUND ORDERS") > one);
        assert!(q("creme").score("Crème") > 0.0);
    }

    #[test]
    fn snippets_cut_around_the_first_hit_and_collapse_blank_space() {
        let text = format!(
            "{} needle {}",
            "lorem ipsum ".repeat(30),
            "dolor sit ".repeat(30)
        );
        let segs = q("needle").snippet(&text, 60);
        let m = marked(&segs);
        assert!(m.starts_with('…') && m.ends_with('…'), "{m}");
        assert!(m.contains("[needle]"), "{m}");
        assert!(m.chars().count() <= 62, "{m}");
        // Lines become one.
        assert_eq!(marked(&q("b").snippet("a\n\n  b\tc", 160)), "a [b] c");
        // No hit: the start.
        assert_eq!(marked(&q("zzz").snippet("plain text", 4)), "plai…");
        assert!(q("x").snippet("", 10).is_empty());
    }

    #[test]
    fn postgres_table_pairs_each_letter_with_one_replacement() {
        let (from, to) = postgres_fold_table();
        assert!(from.contains('É') && from.contains('é') && from.contains('ệ'));
        assert!(!from.contains('ß') && !from.contains('ø'));
        // The marks at the end have no partner: translate deletes them.
        assert_eq!(from.chars().count() - to.chars().count(), 0x36f - 0x300 + 1);
        for (f, t) in from.chars().zip(to.chars()) {
            let expect = if POSTGRES_SPLIT_CHARS.contains(f) {
                ' '
            } else {
                fold(&f.to_string()).chars().next().unwrap()
            };
            assert_eq!(t, expect, "{f}");
        }
    }

    proptest! {
        #[test]
        fn any_input_is_a_typed_error_or_a_safe_query(raw in any::<String>()) {
            match SearchQuery::parse(&raw) {
                Ok(s) => {
                    prop_assert!(s.terms().count() >= 1 && s.terms().count() <= MAX_SEARCH_TERMS);
                    prop_assert!(s.terms().all(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric)));
                    // Outside the quoted runs, only the expression's own syntax.
                    let fts = s.fts5();
                    let mut inside = false;
                    for c in fts.chars() {
                        if c == '"' { inside = !inside; continue; }
                        if !inside { prop_assert!(" AND*".contains(c), "{fts}"); }
                    }
                    prop_assert!(!inside);
                    let ts = s.tsquery();
                    let mut inside = false;
                    for c in ts.chars() {
                        if c == '\'' { inside = !inside; continue; }
                        if !inside { prop_assert!(" &<->():*".contains(c), "{ts}"); }
                        else { prop_assert!(c.is_alphanumeric(), "{ts}"); }
                    }
                }
                Err(SearchError::Empty) => prop_assert!(raw.chars().count() <= MAX_SEARCH_CHARS),
                Err(SearchError::TooLong) => prop_assert!(raw.chars().count() > MAX_SEARCH_CHARS),
                Err(SearchError::TooManyTerms) => {}
                Err(SearchError::BadLimit) => prop_assert!(false),
            }
        }

        #[test]
        fn the_segmenter_never_panics_and_keeps_the_text(text in any::<String>(), raw in "\\PC{1,20}", max in 0usize..200) {
            if let Ok(s) = SearchQuery::parse(&raw) {
                let segs = s.snippet(&text, max);
                let joined: String = segs.iter().map(|g| g.text.as_str()).collect();
                prop_assert!(joined.chars().count() <= max + 2, "{joined:?}");
                prop_assert!(segs.iter().all(|g| !g.text.is_empty()));
                prop_assert!(segs.windows(2).all(|w| w[0].hit != w[1].hit));
                // What is shown is the text's own, blank runs made one space.
                let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let inner = joined.trim_start_matches('…').trim_end_matches('…').trim();
                prop_assert!(flat.contains(inner) || text.contains('…'), "{inner:?} not in {flat:?}");
            }
        }

        #[test]
        fn a_word_in_the_text_is_marked(pre in "[a-z ]{0,300}", word in "[a-zA-ZéÉü]{1,12}", post in "[a-z ]{0,300}") {
            let text = format!("{pre} {word} {post}");
            let s = SearchQuery::parse(&word).unwrap();
            let segs = s.snippet(&text, SNIPPET_CHARS);
            prop_assert!(segs.iter().any(|g| g.hit && fold(&g.text).starts_with(&fold(&word))), "{segs:?}");
        }
    }
}
