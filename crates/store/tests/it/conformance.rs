//! The storage conformance suite: every test runs once on SQLite and once on PostgreSQL.
//!
//! The PostgreSQL copies need `FRONTDESK_TEST_POSTGRES_URL` (a database where the test user may
//! `CREATE DATABASE`); each test gets a fresh database. `scripts/test.sh` runs the SQLite copies,
//! `scripts/test-postgres.sh` the PostgreSQL ones; `.ci/run` runs both.

use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::*;
use frontdesk_core::*;
use frontdesk_store::*;

use crate::common::*;

conformance!(
    migrations_apply_and_database_answers,
    setup_happens_once,
    sessions_find_their_agent_until_deleted,
    contacts_keep_context_they_were_not_sent_again,
    first_visitor_message_starts_a_conversation,
    retried_send_is_stored_once,
    concurrent_senders_get_one_gap_free_order,
    notes_are_hidden_from_visitors_without_leaving_gaps,
    two_agents_taking_at_once_assign_once,
    resolve_then_visitor_message_reopens,
    tenants_cannot_reach_each_other,
    receipts_only_move_forward_and_clear_unread,
    inbox_tabs_counts_and_cursor_pages,
    agents_change_only_their_own_or_unassigned_conversations,
    concurrent_routing_and_taking_never_assign_twice_or_past_a_limit,
    transfers_invites_and_observers,
    page_trail_is_bounded_deduplicated_and_tenant_scoped,
    visits_count_utm_and_the_presence_lease,
    proactive_chat_starts_one_conversation_assigned_to_the_agent,
);

/// Many conversations, three agents with a limit of two, and a storm of concurrent routing
/// assignments and takes for random pairs. On PostgreSQL the writer runs several shards, each
/// its own transaction on its own connection, exactly as several nodes would: only the row
/// locks keep the invariants.
async fn concurrent_routing_and_taking_never_assign_twice_or_past_a_limit(s: Store) {
    let t = tenant(&s, "a").await;
    let org = t.admin.organization_id.clone();
    let mut agents = vec![t.admin.clone(), t.agent.clone()];
    agents.push(
        s.create_agent(&NewAgent {
            organization_id: org.clone(),
            email: Email::parse("third@a.test").unwrap(),
            name: Name::parse("Third").unwrap(),
            password_hash: "hash".into(),
            role: Role::Agent,
        })
        .await
        .unwrap(),
    );
    for a in &agents {
        s.set_agent_settings(&org, &a.id, a.role, 2, &[], &[])
            .await
            .unwrap();
        s.set_agent_status(&a.id, AgentStatus::Online)
            .await
            .unwrap();
    }
    let ids: Vec<AgentId> = agents.iter().map(|a| a.id.clone()).collect();
    s.renew_presence(&ids, now_ms() + 60_000).await.unwrap();
    let mut convs = Vec::new();
    for i in 0..12 {
        let v = visitor(&s, &t).await;
        let c = s
            .write(visitor_send(&t, &v, &format!("v{i}"), "Hi"))
            .await
            .unwrap()
            .conversation
            .id;
        convs.push(c);
    }
    let mut tasks = Vec::new();
    for round in 0..6usize {
        for (i, c) in convs.iter().enumerate() {
            let a = &agents[(i + round) % agents.len()];
            let who = AgentRef {
                id: a.id.clone(),
                name: a.name.clone(),
            };
            let op = if (i + round) % 2 == 0 {
                WriteOp::Route {
                    organization_id: org.clone(),
                    conversation_id: c.clone(),
                    team: None,
                    agent: who,
                }
            } else {
                WriteOp::Act {
                    scope: Scope::Organization(org.clone()),
                    conversation_id: c.clone(),
                    action: Action::Take(who),
                    actor: a.id.clone(),
                    role: a.role,
                }
            };
            let s = s.clone();
            tasks.push(tokio::spawn(async move { s.write(op).await }));
        }
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(o) if o.changed => ok += 1,
            Ok(_)
            | Err(StoreError::AtCapacity(_))
            | Err(StoreError::Transition(TransitionError::AlreadyAssigned)) => {}
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    // Exactly the six slots were filled, each chat at most once, nobody past their limit.
    assert_eq!(ok, 6, "three agents with two slots each");
    let mut per_agent = std::collections::BTreeMap::new();
    for c in &convs {
        let conv = s.conversation(&org, c).await.unwrap().unwrap();
        let joined = s
            .messages(c, 0, 100, false)
            .await
            .unwrap()
            .items
            .iter()
            .filter(|m| m.kind == MessageKind::System && m.text.contains("joined"))
            .count();
        match &conv.assignee_id {
            Some(a) => {
                assert_eq!(joined, 1, "assigned once");
                *per_agent.entry(a.clone()).or_insert(0) += 1;
            }
            None => assert_eq!(joined, 0),
        }
    }
    assert!(per_agent.values().all(|&n| n <= 2), "{per_agent:?}");
    assert_eq!(per_agent.values().sum::<i32>(), 6);
}

async fn transfers_invites_and_observers(s: Store) {
    let t = tenant(&s, "a").await;
    let org = t.admin.organization_id.clone();
    let v = visitor(&s, &t).await;
    let conv = s
        .write(visitor_send(&t, &v, "v1", "Hi"))
        .await
        .unwrap()
        .conversation
        .id;
    let admin = agent_ref(&t);
    let bob = AgentRef {
        id: t.agent.id.clone(),
        name: t.agent.name.clone(),
    };
    let scope = Scope::Organization(org.clone());
    s.write(WriteOp::Act {
        scope: scope.clone(),
        conversation_id: conv.clone(),
        action: Action::Take(admin.clone()),
        actor: admin.id.clone(),
        role: Role::Admin,
    })
    .await
    .unwrap();
    // Bob observes: his receipts leave no trace on the admin's chat.
    let seen = s
        .write(WriteOp::Receipt {
            scope: scope.clone(),
            conversation_id: conv.clone(),
            side: Side::Agent,
            read: true,
            public_seq: 2,
            actor: Some(bob.id.clone()),
        })
        .await
        .unwrap();
    assert!(!seen.changed);
    assert_eq!(seen.conversation.agent_read_seq, 0);
    // Bob cannot reply yet; once invited he can, and he is told.
    let reply = |cid: &str| WriteOp::Send {
        scope: scope.clone(),
        target: Target::Conversation(conv.clone()),
        client_id: Some(ClientId::parse(cid).unwrap()),
        kind: MessageKind::Agent,
        author: Some(bob.clone()),
        text: MessageText::parse("Hello from Bob").unwrap(),
        attachments: Vec::new(),
    };
    assert!(matches!(
        s.write(reply("b1")).await,
        Err(StoreError::Forbidden)
    ));
    let inv = s
        .write(WriteOp::Invite {
            scope: scope.clone(),
            conversation_id: conv.clone(),
            by: admin.clone(),
            role: Role::Admin,
            agent: bob.clone(),
        })
        .await
        .unwrap();
    assert_eq!(inv.notices.len(), 1);
    assert_eq!(inv.messages[0].kind, MessageKind::Note);
    assert_eq!(s.participants(&conv).await.unwrap().len(), 1);
    s.write(reply("b2")).await.unwrap();
    // A transfer to Bob with a reason: a system message, the reason as a note, a notice.
    let tr = s
        .write(WriteOp::Transfer {
            scope: scope.clone(),
            conversation_id: conv.clone(),
            by: admin.clone(),
            role: Role::Admin,
            to: TransferTo::Agent(bob.clone()),
            reason: Some("billing question".into()),
        })
        .await
        .unwrap();
    assert_eq!(tr.conversation.assignee_id.as_ref(), Some(&bob.id));
    let kinds: Vec<MessageKind> = tr.messages.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, vec![MessageKind::System, MessageKind::Note]);
    assert!(tr.messages[1].text.contains("billing question"));
    assert_eq!(tr.notices[0].agent, bob.id);
    // Seq stays gap-free through all of it.
    let all = s.messages(&conv, 0, 100, false).await.unwrap().items;
    let seqs: Vec<i64> = all.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=all.len() as i64).collect::<Vec<_>>());
}

async fn agents_change_only_their_own_or_unassigned_conversations(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let conv = s
        .write(visitor_send(&t, &v, "v1", "Hi"))
        .await
        .unwrap()
        .conversation
        .id;
    let org = Scope::Organization(t.admin.organization_id.clone());
    let bob = AgentRef {
        id: t.agent.id.clone(),
        name: t.agent.name.clone(),
    };
    let act = |action, actor: &AgentId, role| WriteOp::Act {
        scope: org.clone(),
        conversation_id: conv.clone(),
        action,
        actor: actor.clone(),
        role,
    };
    // The admin takes it; the agent may not resolve, return or take over the admin's chat.
    s.write(act(Action::Take(agent_ref(&t)), &t.admin.id, Role::Admin))
        .await
        .unwrap();
    for action in [
        Action::Resolve { by: bob.clone() },
        Action::Unassign { by: bob.clone() },
        Action::Assign {
            to: bob.clone(),
            by: bob.clone(),
        },
    ] {
        let r = s.write(act(action, &t.agent.id, Role::Agent)).await;
        assert!(matches!(r, Err(StoreError::Forbidden)), "{r:?}");
    }
    // A supervisor may transfer it, after which it is the agent's own to resolve.
    s.write(act(
        Action::Assign {
            to: bob.clone(),
            by: agent_ref(&t),
        },
        &t.admin.id,
        Role::Supervisor,
    ))
    .await
    .unwrap();
    let done = s
        .write(act(
            Action::Resolve { by: bob.clone() },
            &t.agent.id,
            Role::Agent,
        ))
        .await
        .unwrap();
    assert_eq!(done.conversation.status, ConversationStatus::Resolved);
}

async fn migrations_apply_and_database_answers(s: Store) {
    s.ping().await.unwrap();
    // Migrating twice is a no-op.
    s.migrate().await.unwrap();
}

async fn setup_happens_once(s: Store) {
    let t = tenant(&s, "a").await;
    assert_eq!(t.admin.role, Role::Admin);
    assert_eq!(t.site.organization_name, "Org a");
    let again = s
        .create_organization(
            &Name::parse("Other").unwrap(),
            (
                &Email::parse("x@y.test").unwrap(),
                &Name::parse("X").unwrap(),
                "h",
            ),
            (
                &Name::parse("Site").unwrap(),
                &Domain::parse("x.test").unwrap(),
                "key-x",
            ),
            Some("setup_done"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    // The same email cannot be used twice.
    let dup = s
        .create_agent(&NewAgent {
            organization_id: t.admin.organization_id.clone(),
            email: Email::parse(&t.admin.email).unwrap(),
            name: Name::parse("Dup").unwrap(),
            password_hash: "h".into(),
            role: Role::Agent,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");
    assert_eq!(s.agent_count().await.unwrap(), 2);
}

async fn sessions_find_their_agent_until_deleted(s: Store) {
    let t = tenant(&s, "a").await;
    s.create_session("hash1", &t.admin.id, now_ms() + 60_000)
        .await
        .unwrap();
    s.create_session("hash-old", &t.admin.id, now_ms() - 1)
        .await
        .unwrap();
    assert_eq!(
        s.session_agent("hash1").await.unwrap().unwrap().id,
        t.admin.id
    );
    assert!(
        s.session_agent("hash-old").await.unwrap().is_none(),
        "expired session"
    );
    assert!(s.session_agent("nope").await.unwrap().is_none());
    s.delete_session("hash1").await.unwrap();
    assert!(s.session_agent("hash1").await.unwrap().is_none());
}

async fn contacts_keep_context_they_were_not_sent_again(s: Store) {
    let t = tenant(&s, "a").await;
    let c = s
        .create_contact(
            &t.site,
            &VisitContext {
                current_url: Some("https://a.test/".into()),
                referrer: Some("https://search.test/".into()),
                browser: Some("Chrome".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let c2 = s
        .touch_contact(
            &c.id,
            &VisitContext {
                current_url: Some("https://a.test/pricing".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c2.current_url.as_deref(), Some("https://a.test/pricing"));
    assert_eq!(c2.referrer.as_deref(), Some("https://search.test/"));
    assert_eq!(c2.browser.as_deref(), Some("Chrome"));
    let c3 = s
        .set_contact_profile(&c.id, None, Some(&Email::parse("v@x.test").unwrap()))
        .await
        .unwrap();
    assert_eq!(c3.email.as_deref(), Some("v@x.test"));
    let (org, _) = s.contact_in_org(&c.id).await.unwrap().unwrap();
    assert_eq!(org, t.admin.organization_id);
}

async fn first_visitor_message_starts_a_conversation(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let o = s.write(visitor_send(&t, &v, "c1", "Hello")).await.unwrap();
    assert_eq!(o.conversation.status, ConversationStatus::Open);
    assert_eq!(o.messages.len(), 1);
    assert_eq!((o.messages[0].seq, o.messages[0].public_seq), (1, Some(1)));
    assert_eq!(o.conversation.unread, 1);
    assert_eq!(
        o.conversation.last_message_preview.as_deref(),
        Some("Hello")
    );
    let o2 = s
        .write(visitor_send(&t, &v, "c2", "Anyone?"))
        .await
        .unwrap();
    assert_eq!(o2.conversation.id, o.conversation.id, "same conversation");
    assert_eq!(o2.messages[0].seq, 2);
    assert_eq!(o2.conversation.unread, 2);
    let latest = s.latest_conversation(&v.id).await.unwrap().unwrap();
    assert_eq!(latest.id, o.conversation.id);
}

async fn retried_send_is_stored_once(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let first = s.write(visitor_send(&t, &v, "same", "Hi")).await.unwrap();
    let retry = s.write(visitor_send(&t, &v, "same", "Hi")).await.unwrap();
    assert!(retry.duplicate);
    assert!(!first.duplicate);
    assert_eq!(retry.messages[0].id, first.messages[0].id);
    assert_eq!(retry.messages[0].seq, first.messages[0].seq);
    // Concurrent retries too.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        let op = visitor_send(&t, &v, "burst", "Again");
        tasks.push(tokio::spawn(async move { s.write(op).await.unwrap() }));
    }
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap().messages[0].id.clone());
    }
    assert_eq!(ids.len(), 1, "one stored message for one client id");
    let page = s
        .messages(&first.conversation.id, 0, 100, false)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
}

async fn concurrent_senders_get_one_gap_free_order(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let conv = s
        .write(visitor_send(&t, &v, "start", "start"))
        .await
        .unwrap()
        .conversation
        .id;
    let agent = agent_ref(&t);
    let senders = 6;
    let per = 25;
    let mut tasks = Vec::new();
    for w in 0..senders {
        let s = s.clone();
        let (t_org, conv, agent) = (t.admin.organization_id.clone(), conv.clone(), agent.clone());
        let v_id = v.id.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let text = MessageText::parse(&format!("w{w}-{i}")).unwrap();
                let client_id = Some(ClientId::parse(&format!("w{w}-{i}")).unwrap());
                // Half the senders are the visitor, half are the agent.
                let op = if w % 2 == 0 {
                    WriteOp::Send {
                        scope: Scope::Contact(v_id.clone()),
                        target: Target::Conversation(conv.clone()),
                        client_id,
                        kind: MessageKind::Visitor,
                        author: None,
                        text,
                        attachments: Vec::new(),
                    }
                } else {
                    WriteOp::Send {
                        scope: Scope::Organization(t_org.clone()),
                        target: Target::Conversation(conv.clone()),
                        client_id,
                        kind: MessageKind::Agent,
                        author: Some(agent.clone()),
                        text,
                        attachments: Vec::new(),
                    }
                };
                s.write(op).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let msgs = s.messages(&conv, 0, 1000, false).await.unwrap().items;
    let seqs: Vec<i64> = msgs.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gap-free, no duplicates"
    );
    // 1 start + 150 sends + 1 system message ("joined") from the first agent reply.
    assert_eq!(msgs.len(), 1 + senders * per + 1);
    // Each sender's messages keep their order.
    for w in 0..senders {
        let mine: Vec<usize> = msgs
            .iter()
            .filter_map(|m| {
                m.text
                    .strip_prefix(&format!("w{w}-"))
                    .map(|n| n.parse().unwrap())
            })
            .collect();
        assert_eq!(mine, (0..per).collect::<Vec<_>>());
    }
    let publics: Vec<i64> = msgs.iter().filter_map(|m| m.public_seq).collect();
    assert_eq!(publics, (1..=publics.len() as i64).collect::<Vec<_>>());
}

async fn notes_are_hidden_from_visitors_without_leaving_gaps(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let conv = s
        .write(visitor_send(&t, &v, "v1", "Hi"))
        .await
        .unwrap()
        .conversation
        .id;
    let note = s
        .write(agent_send(&t, &conv, "n1", "secret note", true))
        .await
        .unwrap();
    assert_eq!(note.messages[0].kind, MessageKind::Note);
    assert_eq!(note.messages[0].public_seq, None);
    s.write(agent_send(&t, &conv, "a1", "Hello!", false))
        .await
        .unwrap();
    let for_agent = s.messages(&conv, 0, 100, false).await.unwrap().items;
    assert!(for_agent.iter().any(|m| m.text == "secret note"));
    let for_visitor = s.messages(&conv, 0, 100, true).await.unwrap().items;
    assert!(
        for_visitor
            .iter()
            .all(|m| m.kind != MessageKind::Note && !m.text.contains("secret"))
    );
    let seqs: Vec<i64> = for_visitor.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "visitor view is gap-free"
    );
    assert!(for_visitor.iter().all(|m| m.author_id.is_none()));
    // Resuming from the middle returns only what follows.
    let tail = s.messages(&conv, 1, 100, true).await.unwrap().items;
    assert_eq!(tail.first().map(|m| m.seq), Some(2));
}

async fn two_agents_taking_at_once_assign_once(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let conv = s
        .write(visitor_send(&t, &v, "v1", "Hi"))
        .await
        .unwrap()
        .conversation
        .id;
    let a = agent_ref(&t);
    let b = AgentRef {
        id: t.agent.id.clone(),
        name: t.agent.name.clone(),
    };
    for _round in 0..5 {
        let mut tasks = Vec::new();
        for who in [a.clone(), b.clone(), a.clone(), b.clone()] {
            let s = s.clone();
            let op = WriteOp::Act {
                scope: Scope::Organization(t.admin.organization_id.clone()),
                conversation_id: conv.clone(),
                action: Action::Take(who.clone()),
                actor: who.id.clone(),
                role: Role::Agent,
            };
            tasks.push(tokio::spawn(async move { (who, s.write(op).await) }));
        }
        let mut winners = std::collections::HashSet::new();
        for task in tasks {
            let (who, r) = task.await.unwrap();
            match r {
                Ok(_) => {
                    winners.insert(who.id);
                }
                Err(StoreError::Transition(TransitionError::AlreadyAssigned)) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one agent got it");
        let now = s
            .conversation(&t.admin.organization_id, &conv)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.assignee_id.as_ref(), winners.iter().next());
        // Put it back for the next round.
        s.write(WriteOp::Act {
            scope: Scope::Organization(t.admin.organization_id.clone()),
            conversation_id: conv.clone(),
            action: Action::Unassign { by: a.clone() },
            actor: a.id.clone(),
            role: Role::Admin,
        })
        .await
        .unwrap();
    }
}

async fn resolve_then_visitor_message_reopens(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let conv = s
        .write(visitor_send(&t, &v, "v1", "Hi"))
        .await
        .unwrap()
        .conversation
        .id;
    let org = Scope::Organization(t.admin.organization_id.clone());
    let act = |action| WriteOp::Act {
        scope: org.clone(),
        conversation_id: conv.clone(),
        action,
        actor: t.admin.id.clone(),
        role: Role::Admin,
    };
    let taken = s.write(act(Action::Take(agent_ref(&t)))).await.unwrap();
    assert_eq!(taken.conversation.status, ConversationStatus::Assigned);
    assert_eq!(taken.messages[0].kind, MessageKind::System);
    let resolved = s
        .write(act(Action::Resolve { by: agent_ref(&t) }))
        .await
        .unwrap();
    assert_eq!(resolved.conversation.status, ConversationStatus::Resolved);
    let twice = s.write(act(Action::Resolve { by: agent_ref(&t) })).await;
    assert!(matches!(
        twice,
        Err(StoreError::Transition(TransitionError::AlreadyResolved))
    ));
    let back = s
        .write(visitor_send(&t, &v, "v2", "One more thing"))
        .await
        .unwrap();
    assert_eq!(back.conversation.id, conv);
    assert_eq!(back.conversation.status, ConversationStatus::Assigned);
    assert_eq!(back.conversation.assignee_id, Some(t.admin.id.clone()));
    let kinds: Vec<MessageKind> = back.messages.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, vec![MessageKind::System, MessageKind::Visitor]);
    let all = s.messages(&conv, 0, 100, false).await.unwrap().items;
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=all.len() as i64).collect::<Vec<_>>()
    );
}

async fn tenants_cannot_reach_each_other(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let va = visitor(&s, &a).await;
    let vb = visitor(&s, &b).await;
    let conv_a = s
        .write(visitor_send(&a, &va, "v1", "private"))
        .await
        .unwrap()
        .conversation
        .id;
    // Org B's agents cannot read or change org A's conversation.
    assert!(
        s.conversation(&b.admin.organization_id, &conv_a)
            .await
            .unwrap()
            .is_none()
    );
    let r = s.write(agent_send(&b, &conv_a, "x", "hijack", false)).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let r = s
        .write(WriteOp::Act {
            scope: Scope::Organization(b.admin.organization_id.clone()),
            conversation_id: conv_a.clone(),
            action: Action::Take(agent_ref(&b)),
            actor: b.admin.id.clone(),
            role: Role::Admin,
        })
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    // Another visitor cannot write into it or read it.
    let r = s
        .write(WriteOp::Send {
            scope: Scope::Contact(vb.id.clone()),
            target: Target::Conversation(conv_a.clone()),
            client_id: None,
            kind: MessageKind::Visitor,
            author: None,
            text: MessageText::parse("hi").unwrap(),
            attachments: Vec::new(),
        })
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    assert!(
        s.contact_conversation(&vb.id, &conv_a)
            .await
            .unwrap()
            .is_none()
    );
    // A visitor of org A cannot be used under org B's website.
    let r = s
        .write(WriteOp::Send {
            scope: Scope::Contact(va.id.clone()),
            target: Target::LatestOfContact {
                contact_id: va.id.clone(),
                organization_id: b.admin.organization_id.clone(),
                website_id: b.site.id.clone(),
            },
            client_id: None,
            kind: MessageKind::Visitor,
            author: None,
            text: MessageText::parse("hi").unwrap(),
            attachments: Vec::new(),
        })
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    let page = s
        .conversations(&b.admin.organization_id, &b.admin.id, Tab::All, None, 50)
        .await
        .unwrap();
    assert!(page.items.iter().all(|c| c.id != conv_a));
    assert_eq!(
        s.inbox_counts(&b.admin.organization_id, &b.admin.id)
            .await
            .unwrap()
            .all,
        0
    );
    assert!(
        s.agents(&b.admin.organization_id)
            .await
            .unwrap()
            .iter()
            .all(|x| x.organization_id == b.admin.organization_id)
    );
}

async fn receipts_only_move_forward_and_clear_unread(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    for i in 0..3 {
        s.write(visitor_send(&t, &v, &format!("v{i}"), "msg"))
            .await
            .unwrap();
    }
    let conv = s.latest_conversation(&v.id).await.unwrap().unwrap();
    assert_eq!(conv.unread, 3);
    let receipt = |side, read, public_seq, scope: Scope| WriteOp::Receipt {
        scope,
        conversation_id: conv.id.clone(),
        side,
        read,
        public_seq,
        actor: None,
    };
    let org = Scope::Organization(t.admin.organization_id.clone());
    let o = s
        .write(receipt(Side::Agent, false, 3, org.clone()))
        .await
        .unwrap();
    assert_eq!(
        (
            o.conversation.agent_delivered_seq,
            o.conversation.agent_read_seq
        ),
        (3, 0)
    );
    let o = s
        .write(receipt(Side::Agent, true, 2, org.clone()))
        .await
        .unwrap();
    assert_eq!(
        (o.conversation.agent_read_seq, o.conversation.unread),
        (2, 1)
    );
    let o = s
        .write(receipt(Side::Agent, true, 1, org.clone()))
        .await
        .unwrap();
    assert!(!o.changed, "receipts never move back");
    assert_eq!(o.conversation.agent_read_seq, 2);
    let o = s
        .write(receipt(Side::Agent, true, 99, org.clone()))
        .await
        .unwrap();
    assert_eq!(
        (o.conversation.agent_read_seq, o.conversation.unread),
        (3, 0),
        "clamped to what exists"
    );
    s.write(agent_send(&t, &conv.id, "a1", "reply", false))
        .await
        .unwrap();
    let o = s
        .write(receipt(
            Side::Visitor,
            true,
            4,
            Scope::Contact(v.id.clone()),
        ))
        .await
        .unwrap();
    assert!(o.conversation.visitor_read_seq >= 4);
}

async fn inbox_tabs_counts_and_cursor_pages(s: Store) {
    let t = tenant(&s, "a").await;
    let org = t.admin.organization_id.clone();
    let mut convs = Vec::new();
    for _ in 0..7 {
        let v = visitor(&s, &t).await;
        convs.push(
            s.write(visitor_send(&t, &v, "v", "hi"))
                .await
                .unwrap()
                .conversation
                .id,
        );
    }
    let act = |id: &ConversationId, action| WriteOp::Act {
        scope: Scope::Organization(org.clone()),
        conversation_id: id.clone(),
        action,
        actor: t.admin.id.clone(),
        role: Role::Admin,
    };
    s.write(act(&convs[0], Action::Take(agent_ref(&t))))
        .await
        .unwrap();
    s.write(act(&convs[1], Action::Take(agent_ref(&t))))
        .await
        .unwrap();
    s.write(act(&convs[2], Action::Resolve { by: agent_ref(&t) }))
        .await
        .unwrap();
    let counts = s.inbox_counts(&org, &t.admin.id).await.unwrap();
    assert_eq!((counts.unassigned, counts.mine, counts.all), (4, 2, 6));
    assert_eq!(counts.unread_all, 6);
    let other = s.inbox_counts(&org, &t.agent.id).await.unwrap();
    assert_eq!(other.mine, 0);
    let mine = s
        .conversations(&org, &t.admin.id, Tab::Mine, None, 50)
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 2);
    let resolved = s
        .conversations(&org, &t.admin.id, Tab::Resolved, None, 50)
        .await
        .unwrap();
    assert_eq!(resolved.items.len(), 1);
    // Walk "all" three at a time: every conversation once, newest activity first.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .conversations(&org, &t.admin.id, Tab::All, cursor.as_deref(), 3)
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|c| (c.updated_at, c.id.clone())));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
    // A garbage cursor is treated as the first page, not an error.
    let page = s
        .conversations(&org, &t.admin.id, Tab::All, Some("'; DROP TABLE x"), 3)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
}

/// The two schemas are the same file for file, comments aside. The one exception is full-text
/// search, which each database does its own way (FTS5 tables and triggers; a generated
/// `tsvector` column): a migration named `*_search.sql` may differ, but both copies must exist,
/// so the numbering stays in step. Anything else that differs is drift.
#[test]
fn sqlite_and_postgres_schemas_match() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |db: &str| -> Vec<(String, String)> {
        let mut files: Vec<_> = std::fs::read_dir(format!("{root}/migrations/{db}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let body: String = std::fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .filter(|l| !l.starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                (p.file_name().unwrap().to_string_lossy().into_owned(), body)
            })
            .collect()
    };
    let dialect_specific = |name: &str| name.ends_with("_search.sql");
    let (sqlite, postgres) = (read("sqlite"), read("postgres"));
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&sqlite),
        names(&postgres),
        "each migration must exist for both databases, under the same name"
    );
    let same = |files: Vec<(String, String)>| -> Vec<(String, String)> {
        files
            .into_iter()
            .filter(|(n, _)| !dialect_specific(n))
            .collect()
    };
    assert_eq!(
        same(sqlite),
        same(postgres),
        "the two schemas have drifted apart"
    );
}

/// PostgreSQL folds text for search with a `translate()` table that must be the core's, or the
/// two databases would find different things.
#[test]
fn postgres_search_folds_text_as_the_core_does() {
    let sql = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/postgres/0011_search.sql"
    ))
    .unwrap();
    let (from, to) = frontdesk_core::search::postgres_fold_table();
    assert!(
        sql.contains(&format!("translate(lower(t), '{from}', '{to}')")),
        "fd_search_text's table differs from frontdesk_core::search::postgres_fold_table()"
    );
}

fn page(url: &str) -> NewPageView {
    NewPageView {
        url: url.into(),
        title: Some(format!("Title of {url}")),
        location: None,
    }
}

async fn page_trail_is_bounded_deduplicated_and_tenant_scoped(s: Store) {
    use frontdesk_core::visitors::PAGE_TRAIL_MAX;
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let v = visitor(&s, &a).await;
    let org = &a.site.organization_id;
    let t0 = 1_700_000_000_000;
    let first = s
        .record_page_view(org, &v.id, &page("https://a.test/0"), t0)
        .await
        .unwrap();
    assert_eq!(first.unwrap().url, "https://a.test/0");
    // The same page again (a session refresh) adds nothing.
    let again = s
        .record_page_view(org, &v.id, &page("https://a.test/0"), t0 + 1)
        .await
        .unwrap();
    assert_eq!(again, None);
    for i in 1..(PAGE_TRAIL_MAX + 10) {
        s.record_page_view(
            org,
            &v.id,
            &page(&format!("https://a.test/{i}")),
            t0 + i * 1000,
        )
        .await
        .unwrap();
    }
    let trail = s.page_trail(org, &v.id).await.unwrap();
    assert_eq!(trail.len() as i64, PAGE_TRAIL_MAX, "bounded per contact");
    assert_eq!(
        trail[0].url,
        format!("https://a.test/{}", PAGE_TRAIL_MAX + 9),
        "latest first"
    );
    assert_eq!(
        trail.last().unwrap().url,
        "https://a.test/10",
        "oldest dropped"
    );
    // Another organization sees nothing, and cannot write into this contact's trail.
    let borg = &b.site.organization_id;
    assert!(s.page_trail(borg, &v.id).await.unwrap().is_empty());
    assert!(s.visitor_details(borg, &v.id, t0).await.unwrap().is_none());
    assert!(matches!(
        s.record_page_view(borg, &v.id, &page("https://b.test/x"), t0)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.page_trail(org, &v.id).await.unwrap().len() as i64,
        PAGE_TRAIL_MAX
    );
}

async fn visits_count_utm_and_the_presence_lease(s: Store) {
    use frontdesk_core::visitors::VISIT_GAP_MS;
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let v = visitor(&s, &a).await;
    let org = &a.site.organization_id;
    let t0 = 1_700_000_000_000;
    s.record_page_view(
        org,
        &v.id,
        &page("https://a.test/?utm_source=ads&utm_campaign=spring"),
        t0,
    )
    .await
    .unwrap();
    s.record_page_view(org, &v.id, &page("https://a.test/pricing"), t0 + 60_000)
        .await
        .unwrap();
    let d = s.visitor_details(org, &v.id, t0).await.unwrap().unwrap();
    assert_eq!(d.visit_count, 1);
    assert_eq!(
        d.utm.source.as_deref(),
        Some("ads"),
        "tags stay for the visit"
    );
    assert_eq!(d.utm.campaign.as_deref(), Some("spring"));
    assert_eq!(d.location, None, "no location unless one was looked up");
    assert!(!d.online);
    assert_eq!(d.pages.len(), 2);
    let later = t0 + 60_000 + VISIT_GAP_MS + 1;
    s.record_page_view(org, &v.id, &page("https://a.test/back"), later)
        .await
        .unwrap();
    let d = s.visitor_details(org, &v.id, later).await.unwrap().unwrap();
    assert_eq!(d.visit_count, 2, "a long gap starts a new visit");
    assert_eq!(d.visit_started_at, Some(later));

    // Presence: a lease renewed by the node holding the socket, ended when it closes.
    let now = now_ms();
    assert!(s.live_visitors(org, now).await.unwrap().is_empty());
    s.renew_visitors(std::slice::from_ref(&v.id), now + 30_000)
        .await
        .unwrap();
    let live = s.live_visitors(org, now).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].contact_id, v.id);
    assert_eq!(live[0].current_url, None);
    assert_eq!(live[0].visit_count, 2);
    assert!(
        s.live_visitors(&b.site.organization_id, now)
            .await
            .unwrap()
            .is_empty(),
        "tenant scoped"
    );
    assert!(
        s.live_visitors(org, now + 30_001).await.unwrap().is_empty(),
        "a lapsed lease is offline"
    );
    let w = visitor(&s, &a).await;
    s.record_page_view(org, &w.id, &page("https://a.test/other"), later)
        .await
        .unwrap();
    s.renew_visitors(&[v.id.clone(), w.id.clone()], now + 30_000)
        .await
        .unwrap();
    assert_eq!(s.live_visitors(org, now).await.unwrap().len(), 2);
    s.visitors_gone(std::slice::from_ref(&v.id)).await.unwrap();
    let live = s.live_visitors(org, now).await.unwrap();
    assert_eq!(live.len(), 1, "only the one gone went");
    assert_eq!(live[0].contact_id, w.id);
    s.visitors_gone(&[v.id.clone(), w.id.clone()])
        .await
        .unwrap();
    assert!(s.live_visitors(org, now).await.unwrap().is_empty());
}

async fn proactive_chat_starts_one_conversation_assigned_to_the_agent(s: Store) {
    let t = tenant(&s, "a").await;
    let v = visitor(&s, &t).await;
    let op = |cid: &str| WriteOp::Send {
        scope: Scope::Organization(t.site.organization_id.clone()),
        target: Target::LatestOfContact {
            contact_id: v.id.clone(),
            organization_id: t.site.organization_id.clone(),
            website_id: t.site.id.clone(),
        },
        client_id: Some(ClientId::parse(cid).unwrap()),
        kind: MessageKind::Agent,
        author: Some(AgentRef {
            id: t.agent.id.clone(),
            name: t.agent.name.clone(),
        }),
        text: MessageText::parse("Hi! Can I help you find something?").unwrap(),
        attachments: Vec::new(),
    };
    // Two concurrent tries with the same client id (a double click, a retry).
    let (x, y) = tokio::join!(s.write(op("pro-1")), s.write(op("pro-1")));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.conversation.id, y.conversation.id);
    assert_eq!(x.messages.last().unwrap().id, y.messages.last().unwrap().id);
    assert!(
        x.duplicate || y.duplicate,
        "one of the two is the stored retry"
    );
    let c = if x.duplicate {
        &y.conversation
    } else {
        &x.conversation
    };
    assert_eq!(c.status, ConversationStatus::Assigned);
    assert_eq!(c.assignee_id.as_ref(), Some(&t.agent.id));
    let latest = s.latest_conversation(&v.id).await.unwrap().unwrap();
    assert_eq!(latest.id, c.id);
    // The visitor sees the agent's message, once.
    let page = s.messages(&c.id, 0, 10, true).await.unwrap();
    let texts: Vec<&str> = page
        .items
        .iter()
        .filter(|m| m.kind == MessageKind::Agent)
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["Hi! Can I help you find something?"]);
    // Another organization cannot start a chat with this visitor.
    let b = tenant_extra(&s, "b").await;
    let foreign = WriteOp::Send {
        scope: Scope::Organization(b.site.organization_id.clone()),
        target: Target::LatestOfContact {
            contact_id: v.id.clone(),
            organization_id: b.site.organization_id.clone(),
            website_id: b.site.id.clone(),
        },
        client_id: Some(ClientId::parse("pro-2").unwrap()),
        kind: MessageKind::Agent,
        author: Some(AgentRef {
            id: b.agent.id.clone(),
            name: b.agent.name.clone(),
        }),
        text: MessageText::parse("Hello from elsewhere").unwrap(),
        attachments: Vec::new(),
    };
    assert!(matches!(s.write(foreign).await, Err(StoreError::NotFound)));
}
