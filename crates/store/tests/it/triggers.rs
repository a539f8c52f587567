//! Storage conformance for proactive triggers: a site's rules, their counts, the greeting
//! stored through the writer, and tenants. Every test runs on SQLite and on PostgreSQL (the
//! `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`, as in `conformance.rs`).

use frontdesk_core::protocol::*;
use frontdesk_core::triggers::*;
use frontdesk_core::*;
use frontdesk_store::*;

use crate::common::*;

conformance!(
    a_sites_triggers_round_trip_and_keep_their_counts,
    another_tenants_site_reads_as_not_found,
    a_greeting_answered_opens_the_chat_before_the_reply_once,
    a_greeting_in_a_running_chat_is_left_out,
);

fn tid(n: u8) -> TriggerId {
    TriggerId(format!("0190a000-0000-7000-8000-0000000000{n:02}"))
}

fn rules(ids: &[u8]) -> SiteTriggers {
    SiteTriggers {
        max_per_visit: 2,
        rules: ids
            .iter()
            .map(|n| TriggerRule {
                id: tid(*n),
                name: format!("rule {n}"),
                enabled: true,
                conditions: vec![Condition::TimeOnPage { seconds: 2 }],
                agents: AgentsWhen::Any,
                action: TriggerAction {
                    text: format!("Hello {n}"),
                    from: GreetingFrom::Team,
                    open: false,
                },
            })
            .collect(),
    }
}

fn stats_of(stats: &[TriggerStats], n: u8) -> (i64, i64, i64) {
    let s = stats.iter().find(|s| s.trigger_id == tid(n)).unwrap();
    (s.shows, s.accepts, s.conversions)
}

async fn a_sites_triggers_round_trip_and_keep_their_counts(s: Store) {
    let t = tenant(&s, "a").await;
    let org = &t.site.organization_id;
    assert_eq!(
        s.site_triggers(org, &t.site.id).await.unwrap(),
        SiteTriggers::default()
    );
    s.set_site_triggers(org, &t.site.id, &rules(&[1, 2]))
        .await
        .unwrap();
    assert_eq!(
        s.site_triggers(org, &t.site.id).await.unwrap(),
        rules(&[1, 2])
    );
    assert!(
        s.count_trigger(&t.site.id, &tid(1), TriggerEvent::Shown)
            .await
            .unwrap()
    );
    assert!(
        s.count_trigger(&t.site.id, &tid(1), TriggerEvent::Shown)
            .await
            .unwrap()
    );
    assert!(
        s.count_trigger(&t.site.id, &tid(1), TriggerEvent::Accepted)
            .await
            .unwrap()
    );
    assert!(
        !s.count_trigger(&t.site.id, &tid(9), TriggerEvent::Shown)
            .await
            .unwrap(),
        "a rule the site does not have counts nothing"
    );
    // Saving again keeps a kept rule's counts and drops a removed rule's.
    s.set_site_triggers(org, &t.site.id, &rules(&[1, 3]))
        .await
        .unwrap();
    let st = s.trigger_stats(org, &t.site.id).await.unwrap();
    assert_eq!(st.len(), 2);
    assert_eq!(stats_of(&st, 1), (2, 1, 0));
    assert_eq!(stats_of(&st, 3), (0, 0, 0));
    assert!(
        !s.count_trigger(&t.site.id, &tid(2), TriggerEvent::Shown)
            .await
            .unwrap()
    );
    assert_eq!(s.widget_triggers(&t.site.id).await.unwrap(), rules(&[1, 3]));
}

async fn another_tenants_site_reads_as_not_found(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org_b = &b.site.organization_id;
    s.set_site_triggers(&a.site.organization_id, &a.site.id, &rules(&[1]))
        .await
        .unwrap();
    assert!(matches!(
        s.site_triggers(org_b, &a.site.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.trigger_stats(org_b, &a.site.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_site_triggers(org_b, &a.site.id, &rules(&[2])).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.site_triggers(&a.site.organization_id, &a.site.id)
            .await
            .unwrap(),
        rules(&[1])
    );
}

fn greeting(t: &Tenant, n: u8, accept: bool) -> Greeting {
    Greeting {
        trigger_id: tid(n),
        website_id: t.site.id.clone(),
        text: MessageText::parse(&format!("Hello {n}")).unwrap(),
        author_id: Some(t.agent.id.clone()),
        author_name: t.agent.name.clone(),
        accept,
    }
}

async fn a_greeting_answered_opens_the_chat_before_the_reply_once(s: Store) {
    let t = tenant(&s, "a").await;
    let org = &t.site.organization_id;
    s.set_site_triggers(org, &t.site.id, &rules(&[1]))
        .await
        .unwrap();
    let v = visitor(&s, &t).await;
    let op = || WriteOp::Greeted {
        greeting: greeting(&t, 1, true),
        send: Box::new(visitor_send(&t, &v, "c-1", "Yes please")),
    };
    let out = s.write(op()).await.unwrap();
    assert_eq!(out.messages.len(), 2);
    let (g, m) = (&out.messages[0], &out.messages[1]);
    assert_eq!(
        (g.seq, g.public_seq, g.kind),
        (1, Some(1), MessageKind::System)
    );
    assert_eq!(g.text, "Hello 1");
    assert_eq!(g.author_id.as_deref(), Some(t.agent.id.as_str()));
    assert_eq!(g.author_name.as_deref(), Some(t.agent.name.as_str()));
    assert_eq!(
        (m.seq, m.kind, m.text.as_str()),
        (2, MessageKind::Visitor, "Yes please")
    );
    // A retry is the same message, and the greeting is not stored or counted again.
    let again = s.write(op()).await.unwrap();
    assert!(again.duplicate);
    let page = s.messages(&out.conversation.id, 0, 50, true).await.unwrap();
    assert_eq!(
        page.items.len(),
        2,
        "the visitor sees the greeting and the reply"
    );
    let st = s.trigger_stats(org, &t.site.id).await.unwrap();
    assert_eq!(stats_of(&st, 1), (0, 1, 1));
}

async fn a_greeting_in_a_running_chat_is_left_out(s: Store) {
    let t = tenant(&s, "a").await;
    let org = &t.site.organization_id;
    s.set_site_triggers(org, &t.site.id, &rules(&[1]))
        .await
        .unwrap();
    let v = visitor(&s, &t).await;
    s.write(visitor_send(&t, &v, "c-1", "Hi")).await.unwrap();
    let out = s
        .write(WriteOp::Greeted {
            greeting: greeting(&t, 1, false),
            send: Box::new(visitor_send(&t, &v, "c-2", "Still there?")),
        })
        .await
        .unwrap();
    assert_eq!(out.messages.len(), 1);
    assert_eq!(out.messages[0].kind, MessageKind::Visitor);
    let st = s.trigger_stats(org, &t.site.id).await.unwrap();
    assert_eq!(stats_of(&st, 1), (0, 0, 0));
    // Only a visitor's send can carry a greeting.
    let conv = out.conversation.id.clone();
    let r = s
        .write(WriteOp::Greeted {
            greeting: greeting(&t, 1, false),
            send: Box::new(agent_send(&t, &conv, "c-3", "Hello", false)),
        })
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
}
