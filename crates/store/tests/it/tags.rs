//! Storage conformance for tags and the filtered inbox: every test runs on SQLite and on
//! PostgreSQL (the `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`, as in
//! `conformance.rs`).

use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::*;
use frontdesk_core::routing::{Priority, Strategy, TeamId};
use frontdesk_core::tags::*;
use frontdesk_core::teams::{AwayAction, TeamView};
use frontdesk_core::*;
use frontdesk_store::*;
use std::collections::BTreeSet;

use crate::common::*;

conformance!(
    tag_names_are_unique_per_organization_whatever_the_case,
    tagging_is_a_conversation_change_with_a_note_the_visitor_never_sees,
    renaming_and_deleting_a_tag_shows_on_its_conversations,
    tags_per_conversation_are_bounded,
    filtered_pages_hold_exactly_the_matching_conversations_once_in_order,
    filters_with_another_tenants_ids_match_nothing,
);

fn name(s: &str) -> TagName {
    TagName::parse(s).unwrap()
}

fn set_tag(t: &Tenant, conv: &ConversationId, tag: &TagId, on: bool) -> WriteOp {
    WriteOp::SetTag {
        scope: Scope::Organization(t.admin.organization_id.clone()),
        conversation_id: conv.clone(),
        by: AgentRef {
            id: t.agent.id.clone(),
            name: t.agent.name.clone(),
        },
        tag: tag.clone(),
        on,
    }
}

async fn new_conversation(s: &Store, t: &Tenant, text: &str) -> ConversationId {
    let v = visitor(s, t).await;
    s.write(visitor_send(t, &v, "v1", text))
        .await
        .unwrap()
        .conversation
        .id
}

async fn tag_named_as_stored(s: &Store, org: &OrganizationId, n: &str) -> Tag {
    s.tag_named(org, &name(n), TagColor::Blue).await.unwrap().0
}

async fn tag_names_are_unique_per_organization_whatever_the_case(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org = a.admin.organization_id.clone();
    let billing = s
        .create_tag(&org, &name("Billing"), TagColor::Red)
        .await
        .unwrap();
    assert_eq!(billing.name, "Billing");
    assert!(matches!(
        s.create_tag(&org, &name("BILLING"), TagColor::Blue).await,
        Err(StoreError::Conflict)
    ));
    // Another organization has its own names.
    let theirs = s
        .create_tag(&b.admin.organization_id, &name("billing"), TagColor::Green)
        .await
        .unwrap();
    assert_ne!(theirs.id, billing.id);

    // Naming a tag inline finds it in any case, or creates it.
    let (found, created) = s
        .tag_named(&org, &name("  billing "), TagColor::Blue)
        .await
        .unwrap();
    assert_eq!((found.id.clone(), created), (billing.id.clone(), false));
    assert_eq!(
        found.color,
        TagColor::Red,
        "the stored colour, not the asked one"
    );
    let (vip, created) = s
        .tag_named(&org, &name("vip"), TagColor::Purple)
        .await
        .unwrap();
    assert!(created);
    let (again, created) = s
        .tag_named(&org, &name("VIP"), TagColor::Blue)
        .await
        .unwrap();
    assert_eq!((again.id, created), (vip.id.clone(), false));

    // Sorted by name, whatever the case; only the organization's own.
    s.create_tag(&org, &name("angry"), TagColor::Orange)
        .await
        .unwrap();
    let names: Vec<String> = s
        .tags(&org)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["angry", "Billing", "vip"]);

    // Renaming onto another tag's name (in any case) is a conflict; the case of its own is not.
    assert!(matches!(
        s.update_tag(&org, &vip.id, Some(&name("billing")), None)
            .await,
        Err(StoreError::Conflict)
    ));
    let renamed = s
        .update_tag(&org, &vip.id, Some(&name("VIP")), Some(TagColor::Pink))
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.color),
        ("VIP", TagColor::Pink)
    );
    let recoloured = s
        .update_tag(&org, &vip.id, None, Some(TagColor::Teal))
        .await
        .unwrap();
    assert_eq!(
        (recoloured.name.as_str(), recoloured.color),
        ("VIP", TagColor::Teal)
    );

    // Another organization's tag cannot be read, changed or deleted.
    assert_eq!(s.tag(&org, &theirs.id).await.unwrap(), None);
    assert!(matches!(
        s.update_tag(&org, &theirs.id, Some(&name("mine now")), None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_tag(&org, &theirs.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.tag(&b.admin.organization_id, &theirs.id)
            .await
            .unwrap()
            .is_some()
    );
    s.delete_tag(&org, &billing.id).await.unwrap();
    assert!(matches!(
        s.delete_tag(&org, &billing.id).await,
        Err(StoreError::NotFound)
    ));
    // The name is free again.
    s.create_tag(&org, &name("billing"), TagColor::Gray)
        .await
        .unwrap();
}

async fn tagging_is_a_conversation_change_with_a_note_the_visitor_never_sees(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org = a.admin.organization_id.clone();
    let conv = new_conversation(&s, &a, "hello").await;
    let before = s.conversation(&org, &conv).await.unwrap().unwrap();
    assert!(before.tags.is_empty());
    let refund = tag_named_as_stored(&s, &org, "refund").await;
    let angry = tag_named_as_stored(&s, &org, "Angry").await;

    let out = s.write(set_tag(&a, &conv, &refund.id, true)).await.unwrap();
    assert!(out.changed);
    assert_eq!(out.conversation.tags, vec![refund.clone()]);
    assert_eq!(out.messages.len(), 1);
    let note = &out.messages[0];
    assert_eq!(note.kind, MessageKind::Note);
    assert_eq!(note.public_seq, None);
    assert_eq!(note.text, "Agent a added the tag “refund”");
    assert_eq!(note.seq, before.last_seq + 1);
    assert_eq!(out.conversation.last_public_seq, before.last_public_seq);

    // Twice is once: nothing changes, no second note.
    let again = s.write(set_tag(&a, &conv, &refund.id, true)).await.unwrap();
    assert!(!again.changed && again.messages.is_empty());

    let out = s.write(set_tag(&a, &conv, &angry.id, true)).await.unwrap();
    let names: Vec<&str> = out
        .conversation
        .tags
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["Angry", "refund"], "sorted by name, case-folded");
    // Every read of the conversation carries its tags, the list too.
    let read = s.conversation(&org, &conv).await.unwrap().unwrap();
    assert_eq!(read.tags, out.conversation.tags);
    let page = s
        .conversations(&org, &a.admin.id, Tab::All, None, 50)
        .await
        .unwrap();
    assert_eq!(page.items[0].tags, out.conversation.tags);

    let out = s
        .write(set_tag(&a, &conv, &refund.id, false))
        .await
        .unwrap();
    assert_eq!(out.conversation.tags, vec![angry.clone()]);
    assert_eq!(out.messages[0].text, "Agent a removed the tag “refund”");
    assert_eq!(out.messages[0].kind, MessageKind::Note);
    let nothing = s
        .write(set_tag(&a, &conv, &refund.id, false))
        .await
        .unwrap();
    assert!(!nothing.changed);

    // What the visitor reads has neither the notes nor a gap.
    let seen = s.messages(&conv, 0, 100, true).await.unwrap();
    assert!(seen.items.iter().all(|m| m.kind != MessageKind::Note));
    assert!(seen.items.iter().all(|m| !m.text.contains("tag")));
    let seqs: Vec<i64> = seen.items.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let all = s.messages(&conv, 0, 100, false).await.unwrap();
    assert_eq!(
        all.items
            .iter()
            .filter(|m| m.kind == MessageKind::Note)
            .count(),
        3
    );

    // Another organization's tag, or its agents, cannot touch this conversation.
    let theirs = tag_named_as_stored(&s, &b.admin.organization_id, "theirs").await;
    assert!(matches!(
        s.write(set_tag(&a, &conv, &theirs.id, true)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.write(set_tag(&b, &conv, &theirs.id, true)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.write(set_tag(&b, &conv, &angry.id, false)).await,
        Err(StoreError::NotFound)
    ));
    let unknown = TagId::new(now_ms(), 7);
    assert!(matches!(
        s.write(set_tag(&a, &conv, &unknown, true)).await,
        Err(StoreError::NotFound)
    ));
    let read = s.conversation(&org, &conv).await.unwrap().unwrap();
    assert_eq!(read.tags, vec![angry]);
}

async fn renaming_and_deleting_a_tag_shows_on_its_conversations(s: Store) {
    let a = tenant(&s, "a").await;
    let org = a.admin.organization_id.clone();
    let one = new_conversation(&s, &a, "one").await;
    let two = new_conversation(&s, &a, "two").await;
    let bug = tag_named_as_stored(&s, &org, "bug").await;
    let vip = tag_named_as_stored(&s, &org, "vip").await;
    for c in [&one, &two] {
        s.write(set_tag(&a, c, &bug.id, true)).await.unwrap();
    }
    s.write(set_tag(&a, &two, &vip.id, true)).await.unwrap();
    s.update_tag(&org, &bug.id, Some(&name("Defect")), Some(TagColor::Red))
        .await
        .unwrap();
    let read = s.conversation(&org, &one).await.unwrap().unwrap();
    assert_eq!(
        read.tags,
        vec![Tag {
            id: bug.id.clone(),
            name: "Defect".into(),
            color: TagColor::Red
        }]
    );
    s.delete_tag(&org, &bug.id).await.unwrap();
    assert!(
        s.conversation(&org, &one)
            .await
            .unwrap()
            .unwrap()
            .tags
            .is_empty()
    );
    assert_eq!(
        s.conversation(&org, &two).await.unwrap().unwrap().tags,
        vec![vip]
    );
    // The deleted tag cannot be put back on by id.
    assert!(matches!(
        s.write(set_tag(&a, &one, &bug.id, true)).await,
        Err(StoreError::NotFound)
    ));
}

async fn tags_per_conversation_are_bounded(s: Store) {
    let a = tenant(&s, "a").await;
    let org = a.admin.organization_id.clone();
    let conv = new_conversation(&s, &a, "many").await;
    let mut ids = Vec::new();
    for i in 0..=MAX_TAGS_PER_CONVERSATION {
        ids.push(tag_named_as_stored(&s, &org, &format!("t{i:02}")).await.id);
    }
    for id in &ids[..MAX_TAGS_PER_CONVERSATION as usize] {
        s.write(set_tag(&a, &conv, id, true)).await.unwrap();
    }
    let last = ids.last().unwrap();
    assert!(matches!(
        s.write(set_tag(&a, &conv, last, true)).await,
        Err(StoreError::TooManyTags)
    ));
    // Adding one it already has is still a no-op, not an error.
    let again = s.write(set_tag(&a, &conv, &ids[0], true)).await.unwrap();
    assert!(!again.changed);
    let read = s.conversation(&org, &conv).await.unwrap().unwrap();
    assert_eq!(read.tags.len() as i64, MAX_TAGS_PER_CONVERSATION);
    // Room again after one comes off.
    s.write(set_tag(&a, &conv, &ids[0], false)).await.unwrap();
    s.write(set_tag(&a, &conv, last, true)).await.unwrap();
}

/// Walks every page of a filtered tab `limit` at a time.
async fn walk(s: &Store, t: &Tenant, tab: Tab, f: &InboxFilter, limit: i64) -> Vec<Conversation> {
    let org = &t.admin.organization_id;
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let page = s
            .conversations_filtered(org, &t.admin.id, tab, f, cursor.as_deref(), limit)
            .await
            .unwrap();
        assert!(page.items.len() as i64 <= limit);
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("paging did not end");
}

async fn filtered_pages_hold_exactly_the_matching_conversations_once_in_order(s: Store) {
    let a = tenant(&s, "a").await;
    let org = a.admin.organization_id.clone();
    let admin = AgentRef {
        id: a.admin.id.clone(),
        name: a.admin.name.clone(),
    };
    let agent = AgentRef {
        id: a.agent.id.clone(),
        name: a.agent.name.clone(),
    };
    let blog = s
        .create_website(
            &org,
            &Name::parse("Blog").unwrap(),
            &Domain::parse("blog.a.test").unwrap(),
            "key-blog",
        )
        .await
        .unwrap();
    let billing = s
        .save_team(
            &org,
            None,
            &TeamView {
                id: TeamId(String::new()),
                name: "Billing".into(),
                strategy: Strategy::Manual,
                members: vec![a.admin.id.clone()],
                overflow: None,
                away_action: AwayAction::Return,
                hours: None,
            },
        )
        .await
        .unwrap();
    let vip = tag_named_as_stored(&s, &org, "vip").await;
    let bug = tag_named_as_stored(&s, &org, "bug").await;
    s.set_agent_settings(&org, &a.agent.id, Role::Agent, 50, &[], &[])
        .await
        .unwrap();
    s.set_agent_settings(&org, &a.admin.id, Role::Admin, 50, &[], &[])
        .await
        .unwrap();

    // 18 conversations, each with a different mix of site, team, assignee, tags and priority.
    let start = now_ms();
    for i in 0..18usize {
        let v = if i % 3 == 0 {
            s.create_contact(&blog, &VisitContext::default())
                .await
                .unwrap()
        } else {
            visitor(&s, &a).await
        };
        let site = if i % 3 == 0 { &blog } else { &a.site };
        let c = s
            .write(WriteOp::Send {
                scope: Scope::Contact(v.id.clone()),
                target: Target::LatestOfContact {
                    contact_id: v.id.clone(),
                    organization_id: org.clone(),
                    website_id: site.id.clone(),
                },
                client_id: Some(ClientId::parse("v1").unwrap()),
                kind: MessageKind::Visitor,
                author: None,
                text: MessageText::parse(&format!("conversation {i}")).unwrap(),
                attachments: Vec::new(),
            })
            .await
            .unwrap()
            .conversation
            .id;
        let scope = Scope::Organization(org.clone());
        if i % 4 == 1 {
            s.write(WriteOp::Transfer {
                scope: scope.clone(),
                conversation_id: c.clone(),
                by: admin.clone(),
                role: Role::Admin,
                to: TransferTo::Team {
                    id: billing.id.clone(),
                    name: billing.name.clone(),
                },
                reason: None,
            })
            .await
            .unwrap();
        }
        if i % 5 == 2 {
            let who = if i % 2 == 0 { &agent } else { &admin };
            s.write(WriteOp::Act {
                scope: scope.clone(),
                conversation_id: c.clone(),
                action: Action::Take(who.clone()),
                actor: who.id.clone(),
                role: Role::Admin,
            })
            .await
            .unwrap();
        }
        if i % 2 == 0 {
            s.write(set_tag(&a, &c, &vip.id, true)).await.unwrap();
        }
        if i % 3 == 1 {
            s.write(set_tag(&a, &c, &bug.id, true)).await.unwrap();
        }
        if i % 6 == 5 {
            s.write(WriteOp::SetPriority {
                scope: scope.clone(),
                conversation_id: c.clone(),
                by: admin.clone(),
                role: Role::Admin,
                priority: Priority::Urgent,
            })
            .await
            .unwrap();
        }
        if i == 7 {
            s.write(WriteOp::Act {
                scope: scope.clone(),
                conversation_id: c.clone(),
                action: Action::Resolve { by: admin.clone() },
                actor: admin.id.clone(),
                role: Role::Admin,
            })
            .await
            .unwrap();
        }
    }

    // The truth, from the unfiltered lists.
    let mut everything = walk(&s, &a, Tab::All, &InboxFilter::default(), 100).await;
    everything.extend(walk(&s, &a, Tab::Resolved, &InboxFilter::default(), 100).await);
    assert_eq!(everything.len(), 18);
    let middle = {
        let mut times: Vec<i64> = everything.iter().map(|c| c.created_at).collect();
        times.sort();
        times[9]
    };

    let has = |c: &Conversation, t: &Tag| c.tags.iter().any(|x| x.id == t.id);
    type Pred = Box<dyn Fn(&Conversation) -> bool>;
    let cases: Vec<(&str, InboxFilter, Pred)> = vec![
        (
            "tag",
            InboxFilter {
                tag: Some(vip.id.clone()),
                ..Default::default()
            },
            Box::new({
                let vip = vip.clone();
                move |c| has(c, &vip)
            }),
        ),
        (
            "team",
            InboxFilter {
                team: Some(billing.id.clone()),
                ..Default::default()
            },
            Box::new({
                let id = billing.id.clone();
                move |c| c.team_id.as_ref() == Some(&id)
            }),
        ),
        (
            "assignee",
            InboxFilter {
                assignee: Some(a.agent.id.clone()),
                ..Default::default()
            },
            Box::new({
                let id = a.agent.id.clone();
                move |c| c.assignee_id.as_ref() == Some(&id)
            }),
        ),
        (
            "website",
            InboxFilter {
                website: Some(blog.id.clone()),
                ..Default::default()
            },
            Box::new({
                let id = blog.id.clone();
                move |c| c.website_id == id
            }),
        ),
        (
            "priority",
            InboxFilter {
                priority: Some(Priority::Urgent),
                ..Default::default()
            },
            Box::new(|c| c.priority == Priority::Urgent),
        ),
        (
            "created from",
            InboxFilter {
                date: DateField::Created,
                from: Some(middle),
                ..Default::default()
            },
            Box::new(move |c| c.created_at >= middle),
        ),
        (
            "created before",
            InboxFilter {
                date: DateField::Created,
                to: Some(middle),
                ..Default::default()
            },
            Box::new(move |c| c.created_at < middle),
        ),
        (
            "active in a range",
            InboxFilter {
                from: Some(start),
                to: Some(middle + 1),
                ..Default::default()
            },
            Box::new(move |c| c.updated_at >= start && c.updated_at < middle + 1),
        ),
        (
            "tag and site and team",
            InboxFilter {
                tag: Some(vip.id.clone()),
                website: Some(a.site.id.clone()),
                team: Some(billing.id.clone()),
                ..Default::default()
            },
            Box::new({
                let (vip, site, team) = (vip.clone(), a.site.id.clone(), billing.id.clone());
                move |c| has(c, &vip) && c.website_id == site && c.team_id.as_ref() == Some(&team)
            }),
        ),
        (
            "tag and priority",
            InboxFilter {
                tag: Some(bug.id.clone()),
                priority: Some(Priority::Urgent),
                ..Default::default()
            },
            Box::new({
                let bug = bug.clone();
                move |c| has(c, &bug) && c.priority == Priority::Urgent
            }),
        ),
    ];
    let tabs = [Tab::All, Tab::Unassigned, Tab::Mine, Tab::Resolved];
    let in_tab = |tab: Tab, c: &Conversation| match tab {
        Tab::All => c.status != ConversationStatus::Resolved,
        Tab::Unassigned => c.status == ConversationStatus::Open,
        Tab::Mine => {
            c.status == ConversationStatus::Assigned && c.assignee_id.as_ref() == Some(&a.admin.id)
        }
        Tab::Resolved => c.status == ConversationStatus::Resolved,
    };
    let mut non_empty = 0;
    for (what, f, pred) in &cases {
        for tab in tabs {
            let mut want: Vec<(i64, String)> = everything
                .iter()
                .filter(|c| in_tab(tab, c) && pred(c))
                .map(|c| (c.updated_at, c.id.0.clone()))
                .collect();
            want.sort_by(|x, y| y.cmp(x));
            for limit in [1, 2, 5] {
                let got: Vec<(i64, String)> = walk(&s, &a, tab, f, limit)
                    .await
                    .iter()
                    .map(|c| (c.updated_at, c.id.0.clone()))
                    .collect();
                assert_eq!(got, want, "{what} in {tab:?}, {limit} a page");
            }
            if !want.is_empty() {
                non_empty += 1;
            }
        }
    }
    assert!(non_empty >= 12, "the cases select something ({non_empty})");
    let unique: BTreeSet<String> = everything.iter().map(|c| c.id.0.clone()).collect();
    assert_eq!(unique.len(), 18);
}

async fn filters_with_another_tenants_ids_match_nothing(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org_a = a.admin.organization_id.clone();
    let org_b = b.admin.organization_id.clone();
    // Each has a tagged conversation.
    let ca = new_conversation(&s, &a, "a").await;
    let cb = new_conversation(&s, &b, "b").await;
    let ta = tag_named_as_stored(&s, &org_a, "shared name").await;
    let tb = tag_named_as_stored(&s, &org_b, "shared name").await;
    s.write(set_tag(&a, &ca, &ta.id, true)).await.unwrap();
    s.write(set_tag(&b, &cb, &tb.id, true)).await.unwrap();
    let mine = walk(
        &s,
        &a,
        Tab::All,
        &InboxFilter {
            tag: Some(ta.id.clone()),
            ..Default::default()
        },
        50,
    )
    .await;
    assert_eq!(mine.len(), 1);
    for f in [
        InboxFilter {
            tag: Some(tb.id.clone()),
            ..Default::default()
        },
        InboxFilter {
            website: Some(b.site.id.clone()),
            ..Default::default()
        },
        InboxFilter {
            assignee: Some(b.agent.id.clone()),
            ..Default::default()
        },
    ] {
        assert!(walk(&s, &a, Tab::All, &f, 50).await.is_empty(), "{f:?}");
    }
}
