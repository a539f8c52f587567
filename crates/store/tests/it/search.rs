//! Storage conformance for full-text search: every test runs on SQLite and on PostgreSQL (the
//! `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`, as in `conformance.rs`). The two
//! databases index differently (FTS5, tsvector) and must find the same things.

use frontdesk_core::protocol::*;
use frontdesk_core::search::*;
use frontdesk_core::*;
use frontdesk_store::*;

use crate::common::*;

conformance!(
    messages_are_found_by_word_prefix_and_without_diacritics,
    notes_are_found_and_system_messages_are_not,
    each_conversation_is_one_hit_best_first,
    searches_never_cross_tenants,
    contacts_are_found_by_profile_and_follow_changes,
    hostile_searches_never_fail,
    every_message_of_a_batch_is_found,
);

fn q(s: &str) -> SearchQuery {
    SearchQuery::parse(s).unwrap()
}

async fn find(s: &Store, t: &Tenant, text: &str) -> SearchResults {
    s.search(&t.admin.organization_id, &q(text), 20)
        .await
        .unwrap_or_else(|e| panic!("searching {text:?}: {e}"))
}

/// The conversations a search finds.
async fn found(s: &Store, t: &Tenant, text: &str) -> Vec<String> {
    find(s, t, text)
        .await
        .conversations
        .into_iter()
        .map(|h| h.conversation_id.0)
        .collect()
}

/// A new visitor writes `text`; returns the conversation.
async fn chat(s: &Store, t: &Tenant, text: &str) -> (Contact, ConversationId) {
    let v = visitor(s, t).await;
    let id = s
        .write(visitor_send(t, &v, "v1", text))
        .await
        .unwrap()
        .conversation
        .id;
    (v, id)
}

fn marked(segs: &[Segment]) -> String {
    segs.iter()
        .map(|g| {
            if g.hit {
                format!("[{}]", g.text)
            } else {
                g.text.clone()
            }
        })
        .collect()
}

async fn messages_are_found_by_word_prefix_and_without_diacritics(s: Store) {
    let t = tenant(&s, "a").await;
    let (_, french) = chat(
        &s,
        &t,
        "Bonjour, je voudrais un remboursement pour la crème brûlée de ma commande",
    )
    .await;
    let (_, order) = chat(&s, &t, "Where is my ORDER #4411? It was due on Monday.").await;
    let (_, mail) = chat(
        &s,
        &t,
        "Write to me at ann.lee@example.com or call 555-0100",
    )
    .await;

    assert_eq!(found(&s, &t, "remboursement").await, [french.as_str()]);
    // Typing as you search: the last word is a prefix.
    assert_eq!(found(&s, &t, "rembour").await, [french.as_str()]);
    assert_eq!(found(&s, &t, "je voud").await, [french.as_str()]);
    // Diacritics and case fold both ways.
    assert_eq!(found(&s, &t, "creme brulee").await, [french.as_str()]);
    assert_eq!(found(&s, &t, "CRÈME").await, [french.as_str()]);
    assert_eq!(found(&s, &t, "order 4411").await, [order.as_str()]);
    // Every word must match.
    assert!(found(&s, &t, "order remboursement").await.is_empty());
    assert!(found(&s, &t, "nothing").await.is_empty());
    // An address and a number are phrases of their parts.
    assert_eq!(found(&s, &t, "ann.lee@example.com").await, [mail.as_str()]);
    assert_eq!(found(&s, &t, "555-0100").await, [mail.as_str()]);
    assert_eq!(found(&s, &t, "example.c").await, [mail.as_str()]);

    let hit = find(&s, &t, "brulee").await.conversations.remove(0);
    assert_eq!(hit.message_kind, MessageKind::Visitor);
    assert_eq!(hit.status, ConversationStatus::Open);
    assert!(
        marked(&hit.snippet).contains("[brûlée]"),
        "{:?}",
        hit.snippet
    );

    // A message written later is found at once.
    s.write(agent_send(
        &t,
        &order,
        "a1",
        "Your parcel left Rotterdam",
        false,
    ))
    .await
    .unwrap();
    let hits = find(&s, &t, "rotterdam").await.conversations;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].conversation_id, order);
    assert_eq!(hits[0].message_kind, MessageKind::Agent);
    assert_eq!(marked(&hits[0].snippet), "Your parcel left [Rotterdam]");
}

async fn notes_are_found_and_system_messages_are_not(s: Store) {
    let t = tenant(&s, "a").await;
    let (_, conv) = chat(&s, &t, "hello").await;
    s.write(agent_send(&t, &conv, "n1", "VIP customer, escalate", true))
        .await
        .unwrap();
    let hit = find(&s, &t, "escalate").await.conversations;
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].message_kind, MessageKind::Note);
    // Resolving writes a system message ("Admin a resolved the conversation").
    s.write(WriteOp::Act {
        scope: Scope::Organization(t.admin.organization_id.clone()),
        conversation_id: conv.clone(),
        action: Action::Resolve { by: agent_ref(&t) },
        actor: t.admin.id.clone(),
        role: Role::Admin,
    })
    .await
    .unwrap();
    assert!(found(&s, &t, "resolved").await.is_empty());
    // A resolved conversation is still found, with its status.
    let hit = find(&s, &t, "escalate").await.conversations;
    assert_eq!(hit[0].status, ConversationStatus::Resolved);
}

async fn each_conversation_is_one_hit_best_first(s: Store) {
    let t = tenant(&s, "a").await;
    let (_, once) = chat(
        &s,
        &t,
        "A long message about many things: delivery, invoices, opening hours, the weather, \
         and somewhere in the middle of it all a single refund, then more about shipping",
    )
    .await;
    let (_, often) = chat(&s, &t, "refund refund refund").await;
    for i in 0..3 {
        s.write(agent_send(
            &t,
            &often,
            &format!("a{i}"),
            "about your refund",
            false,
        ))
        .await
        .unwrap();
    }
    let hits = found(&s, &t, "refund").await;
    assert_eq!(hits, [often.as_str(), once.as_str()]);
    let one = s
        .search(&t.admin.organization_id, &q("refund"), 1)
        .await
        .unwrap();
    assert_eq!(one.conversations.len(), 1);
    // The best message of the conversation is the one shown.
    assert_eq!(
        marked(&one.conversations[0].snippet),
        "[refund] [refund] [refund]"
    );
}

async fn searches_never_cross_tenants(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let (va, conv_a) = chat(&s, &a, "my invoice is wrong").await;
    let (vb, conv_b) = chat(&s, &b, "my invoice is late").await;
    s.set_contact_profile(&va.id, Some(&Name::parse("Invoice Ann").unwrap()), None)
        .await
        .unwrap();
    s.set_contact_profile(&vb.id, Some(&Name::parse("Invoice Bob").unwrap()), None)
        .await
        .unwrap();
    let ra = find(&s, &a, "invoice").await;
    let rb = find(&s, &b, "invoice").await;
    assert_eq!(
        ra.conversations
            .iter()
            .map(|h| &h.conversation_id)
            .collect::<Vec<_>>(),
        [&conv_a]
    );
    assert_eq!(
        rb.conversations
            .iter()
            .map(|h| &h.conversation_id)
            .collect::<Vec<_>>(),
        [&conv_b]
    );
    assert_eq!(
        ra.contacts.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&va.id]
    );
    assert_eq!(
        rb.contacts.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&vb.id]
    );
    // Many matches in one organization never crowd out a small one's.
    for i in 0..(SEARCH_CANDIDATES / 50 + 2) {
        let (_, c) = chat(&s, &b, "invoice again").await;
        for j in 0..50 {
            s.write(agent_send(&b, &c, &format!("b{i}-{j}"), "invoice", false))
                .await
                .unwrap();
        }
    }
    assert_eq!(found(&s, &a, "invoice").await, [conv_a.as_str()]);
    assert!(found(&s, &a, "late").await.is_empty());
}

async fn contacts_are_found_by_profile_and_follow_changes(s: Store) {
    let t = tenant(&s, "a").await;
    let (ann, ann_conv) = chat(&s, &t, "hi").await;
    let ann = s
        .set_contact_profile(
            &ann.id,
            Some(&Name::parse("Ann Lee").unwrap()),
            Some(&Email::parse("annie@example.com").unwrap()),
        )
        .await
        .unwrap();
    // A contact who never wrote: found, with no conversation to open.
    let zoe = visitor(&s, &t).await;
    s.set_contact_profile(&zoe.id, Some(&Name::parse("Zoë Ångström").unwrap()), None)
        .await
        .unwrap();

    let ids = |r: &SearchResults| {
        r.contacts
            .iter()
            .map(|c| c.id.0.clone())
            .collect::<Vec<_>>()
    };
    let r = find(&s, &t, "ann").await;
    assert_eq!(ids(&r), [ann.id.as_str()]);
    assert_eq!(r.contacts[0].latest_conversation_id, Some(ann_conv.clone()));
    assert_eq!(r.contacts[0].email.as_deref(), Some("annie@example.com"));
    assert_eq!(
        marked(&r.contacts[0].snippet),
        "[Ann] Lee · [annie]@example.com"
    );
    assert_eq!(ids(&find(&s, &t, "example.com").await), [ann.id.as_str()]);
    let r = find(&s, &t, "zoe angst").await;
    assert_eq!(ids(&r), [zoe.id.as_str()]);
    assert_eq!(r.contacts[0].latest_conversation_id, None);
    // Anonymous visitors have nothing to find.
    assert!(find(&s, &t, "visitor").await.contacts.is_empty());

    // Renamed: found by the new name only.
    s.set_contact_profile(&ann.id, Some(&Name::parse("Annabel Smith").unwrap()), None)
        .await
        .unwrap();
    assert!(find(&s, &t, "lee").await.contacts.is_empty());
    assert_eq!(ids(&find(&s, &t, "smith").await), [ann.id.as_str()]);
    // Visiting pages changes nothing searchable.
    s.touch_contact(
        &ann.id,
        &VisitContext {
            current_url: Some("https://a.test/pricing".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(ids(&find(&s, &t, "annabel").await), [ann.id.as_str()]);
    assert!(find(&s, &t, "pricing").await.contacts.is_empty());

    // Phone and company (set by the contacts profile; plain SQL here).
    s.execute_admin(&format!(
        "UPDATE contacts SET phone = '+1 555-0199', company = 'Acme Widgets' WHERE id = '{}'",
        ann.id.as_str()
    ))
    .await
    .unwrap();
    assert_eq!(ids(&find(&s, &t, "555-0199").await), [ann.id.as_str()]);
    assert_eq!(ids(&find(&s, &t, "acme widg").await), [ann.id.as_str()]);
    assert_eq!(ids(&find(&s, &t, "annabel acme").await), [ann.id.as_str()]);

    // Merged into another contact: no longer listed.
    s.execute_admin(&format!(
        "UPDATE contacts SET merged_into = '{}' WHERE id = '{}'",
        zoe.id.as_str(),
        ann.id.as_str()
    ))
    .await
    .unwrap();
    assert!(find(&s, &t, "annabel").await.contacts.is_empty());
}

/// Whatever is typed, a search either is refused with a typed error or runs.
/// Sends committed together (one group-commit batch, indexed once on SQLite) are each found,
/// by a word of their own, in their own conversation.
async fn every_message_of_a_batch_is_found(s: Store) {
    let t = tenant(&s, "a").await;
    let mut visitors = Vec::new();
    for _ in 0..30 {
        visitors.push(visitor(&s, &t).await);
    }
    // Letters only, all of one length: none is a prefix of another.
    let words = |i: usize| {
        let l = |n: usize| char::from(b'a' + (n % 26) as u8);
        format!("parcel{}{}", l(i / 26), l(i))
    };
    let sends: Vec<_> = visitors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = s.clone();
            let op = visitor_send(&t, v, "v1", &format!("where is my {}", words(i)));
            tokio::spawn(async move { s.write(op).await.unwrap().conversation.id })
        })
        .collect();
    let mut convs = Vec::new();
    for send in sends {
        convs.push(send.await.unwrap());
    }
    for (i, conv) in convs.iter().enumerate() {
        assert_eq!(
            found(&s, &t, &words(i)).await,
            [conv.as_str()],
            "{}",
            words(i)
        );
    }
    assert_eq!(
        found(&s, &t, "where is my").await.len(),
        20,
        "a page of 20 of the 30"
    );
}

async fn hostile_searches_never_fail(s: Store) {
    let t = tenant(&s, "a").await;
    let (_, conv) = chat(
        &s,
        &t,
        "AND OR NOT NEAR quote\" star* col:on (paren) o'brien",
    )
    .await;
    let hostile = [
        "\"",
        "*",
        "AND (",
        "AND",
        "OR NOT",
        "NEAR(a b)",
        "body : x",
        "org : \"x\"",
        "{name email} : ann",
        "a OR b",
        "-a",
        "^a",
        "a*b",
        "'",
        "''",
        "a' & 'b",
        "a:*",
        "!a",
        "a <-> b",
        "a\\",
        "\\'",
        "%_",
        "\u{0}",
        "x\u{0}y",
        "é\u{301}",
        "\u{345}",
        "x²y",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "🙂 smile",
        "ǅ İstanbul ß",
        "日本語のテキスト",
        "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p",
        "o'brien",
        "star*",
        "col:on",
        "quote\"",
    ];
    for raw in hostile {
        match SearchQuery::parse(raw) {
            Ok(query) => {
                s.search(&t.admin.organization_id, &query, 20)
                    .await
                    .unwrap_or_else(|e| panic!("{raw:?} failed: {e}"));
            }
            Err(SearchError::Empty | SearchError::TooManyTerms) => {}
            Err(e) => panic!("{raw:?}: {e}"),
        }
    }
    // Words that look like syntax are words.
    assert_eq!(found(&s, &t, "AND").await, [conv.as_str()]);
    assert_eq!(found(&s, &t, "o'brien").await, [conv.as_str()]);
    assert_eq!(found(&s, &t, "col:on").await, [conv.as_str()]);
    assert_eq!(found(&s, &t, "(paren)").await, [conv.as_str()]);
}

mod sqlite_only {
    use super::*;

    /// The FTS index is keyed by each row's rowid; VACUUM must keep those (it does for tables
    /// with an index, on the bundled SQLite), or search would point at the wrong rows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn vacuum_keeps_search_in_step() {
        let (s, _dir) = sqlite_store().await;
        let t = tenant(&s, "a").await;
        let mut convs = Vec::new();
        for i in 0..20 {
            convs.push(chat(&s, &t, &format!("message number w{i}x")).await.1);
        }
        // Holes in the rowids, which is what VACUUM could renumber.
        let gone: Vec<usize> = (0..20).filter(|i| i % 3 == 1).collect();
        let list = gone
            .iter()
            .map(|&i| format!("'{}'", convs[i].as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        s.execute_admin(&format!(
            "DELETE FROM messages WHERE conversation_id IN ({list})"
        ))
        .await
        .unwrap();
        for vacuumed in [false, true] {
            if vacuumed {
                s.execute_admin("VACUUM").await.unwrap();
            }
            for (i, conv) in convs.iter().enumerate() {
                let hits = find(&s, &t, &format!("w{i}x")).await.conversations;
                if gone.contains(&i) {
                    assert!(hits.is_empty(), "w{i} after vacuum: {vacuumed}");
                } else {
                    assert_eq!(hits.len(), 1, "w{i}");
                    assert_eq!(&hits[0].conversation_id, conv);
                    assert_eq!(marked(&hits[0].snippet), format!("message number [w{i}x]"));
                }
            }
        }
    }

    #[tokio::test]
    async fn fts5_is_compiled_in() {
        let (s, _dir) = sqlite_store().await;
        s.execute_admin("CREATE VIRTUAL TABLE probe USING fts5(x)")
            .await
            .unwrap();
    }
}
