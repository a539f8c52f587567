//! `@name` mentions in internal notes: which colleagues a note names. Pure.
//!
//! A mention is `@` followed by a colleague's full name or first name, compared without regard
//! to case, and not followed by a letter or digit (so `@Ann` does not mention Anna). The longest
//! match wins: with "Ann" and "Ann Lee" on the team, `@Ann Lee` names Ann Lee. An `@` inside a
//! word (an email address) is not a mention.

use crate::ids::AgentId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The colleagues `text` mentions, each once, in the order they first appear.
pub fn mentioned(text: &str, agents: &[(AgentId, String)]) -> Vec<AgentId> {
    // Candidate names, longest first: full names, then first names shared by nobody else.
    let mut names: Vec<(String, &AgentId)> = Vec::new();
    for (id, name) in agents {
        let full = name.trim().to_lowercase();
        if full.is_empty() {
            continue;
        }
        names.push((full.clone(), id));
        if let Some(first) = full.split_whitespace().next()
            && first != full
        {
            let shared = agents.iter().any(|(other, n)| {
                other != id && n.trim().to_lowercase().split_whitespace().next() == Some(first)
            });
            if !shared {
                names.push((first.to_owned(), id));
            }
        }
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.0.chars().count()));
    let lower = text.to_lowercase();
    let mut out: Vec<AgentId> = Vec::new();
    for (at, _) in lower.match_indices('@') {
        // Not inside a word: `bob@example.com` is an address.
        if lower[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        let rest = &lower[at + 1..];
        if let Some((_, id)) = names.iter().find(|(n, _)| {
            rest.starts_with(n.as_str())
                && !rest[n.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
        }) && !out.contains(id)
        {
            out.push((*id).clone());
        }
    }
    out
}

/// A note that mentioned me, for my mentions list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MentionView {
    pub id: String,
    pub conversation_id: crate::ids::ConversationId,
    pub contact_name: Option<String>,
    pub by_name: Option<String>,
    /// The note, as written.
    pub text: String,
    #[ts(type = "number")]
    pub created_at: crate::Millis,
    /// Whether I have opened it.
    pub read: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn team() -> Vec<(AgentId, String)> {
        vec![
            (AgentId("1".into()), "Ann Lee".into()),
            (AgentId("2".into()), "Anna Berg".into()),
            (AgentId("3".into()), "Bob".into()),
            (AgentId("4".into()), "Bo Chen".into()),
        ]
    }

    #[test]
    fn names_by_full_or_first_name_each_once() {
        let t = team();
        let got = mentioned("@bob can you and @Ann Lee look? cc @ann, @BOB", &t);
        assert_eq!(got, vec![AgentId("3".into()), AgentId("1".into())]);
        assert_eq!(mentioned("@Anna please", &t), vec![AgentId("2".into())]);
        assert_eq!(
            mentioned("@Bo: and @Bob", &t),
            vec![AgentId("4".into()), AgentId("3".into())]
        );
    }

    #[test]
    fn addresses_and_unknown_names_are_not_mentions() {
        let t = team();
        assert!(mentioned("write to bob@example.com", &t).is_empty());
        assert!(mentioned("@Bobby and @Annabel", &t).is_empty());
        assert!(mentioned("no at sign", &t).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics_and_only_names_the_team(s in ".{0,200}") {
            let t = team();
            for id in mentioned(&s, &t) {
                prop_assert!(t.iter().any(|(x, _)| x == &id));
            }
        }
    }
}
