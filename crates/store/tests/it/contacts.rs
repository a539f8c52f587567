//! Storage conformance for contacts: profiles, the list's search, filters and pages, a
//! contact's conversations, and merging. Every test runs on SQLite and on PostgreSQL (the
//! `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`, as in `conformance.rs`).

use frontdesk_core::contacts::*;
use frontdesk_core::protocol::*;
use frontdesk_core::*;
use frontdesk_store::*;
use std::collections::BTreeMap;

use crate::common::*;

conformance!(
    a_profile_is_edited_field_by_field_within_its_tenant,
    attributes_keep_their_types_and_routing_reads_them_as_text,
    the_list_shows_people_and_searches_filters_and_pages_them,
    a_contact_lists_its_conversations_newest_first,
    merging_moves_everything_to_the_kept_contact,
    merges_are_refused_across_tenants_with_itself_and_twice,
);

fn patch(json: &str) -> ContactPatch {
    ContactPatch::parse(&serde_json::from_str(json).unwrap()).unwrap()
}

async fn edit(s: &Store, t: &Tenant, c: &ContactId, json: &str) -> ContactProfile {
    s.update_contact(&t.site.organization_id, c, &patch(json))
        .await
        .unwrap()
}

fn org(t: &Tenant) -> &OrganizationId {
    &t.site.organization_id
}

/// Sets when a contact was last seen (the list's order), as a returning visitor would.
async fn seen_at(s: &Store, c: &ContactId, at: Millis) {
    s.execute_admin(&format!(
        "UPDATE contacts SET last_seen_at = {at} WHERE id = '{}'",
        c.as_str()
    ))
    .await
    .unwrap();
}

fn page(url: &str) -> NewPageView {
    NewPageView {
        url: url.into(),
        title: None,
        location: None,
    }
}

async fn a_profile_is_edited_field_by_field_within_its_tenant(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let v = visitor(&s, &a).await;
    let p = edit(
        &s,
        &a,
        &v.id,
        r#"{"name":"Ann Lee","email":"Ann@Example.com","phone":"+49 30 1234567","company":"Acme","attributes":{"plan":"pro","seats":3,"vip":true}}"#,
    )
    .await;
    assert_eq!(p.name.as_deref(), Some("Ann Lee"));
    assert_eq!(p.email.as_deref(), Some("ann@example.com"));
    assert_eq!(p.phone.as_deref(), Some("+49 30 1234567"));
    assert_eq!(p.company.as_deref(), Some("Acme"));
    assert_eq!(p.website_name, "Site");
    assert_eq!(p.conversation_count, 0);
    assert_eq!(p.attributes.len(), 3);
    // The profile is the contact the rest of the product sees.
    let c = s.contact(&v.id).await.unwrap().unwrap();
    assert_eq!(c.name.as_deref(), Some("Ann Lee"));

    // Only what the patch names changes; an empty string clears; null removes an attribute.
    let p = edit(
        &s,
        &a,
        &v.id,
        r#"{"company":"","attributes":{"seats":null,"plan":"team"}}"#,
    )
    .await;
    assert_eq!(p.name.as_deref(), Some("Ann Lee"));
    assert_eq!(p.phone.as_deref(), Some("+49 30 1234567"));
    assert_eq!(p.company, None);
    assert_eq!(
        p.attributes.keys().collect::<Vec<_>>(),
        ["plan", "vip"],
        "{:?}",
        p.attributes
    );
    assert_eq!(p.attributes["plan"], AttributeValue::Text("team".into()));

    // Past the attribute limit, nothing of the patch is stored.
    let many: String = (0..MAX_ATTRIBUTES)
        .map(|i| format!("\"k{i}\":{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let refused = s
        .update_contact(
            org(&a),
            &v.id,
            &patch(&format!(r#"{{"name":"Changed","attributes":{{{many}}}}}"#)),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Contact(ContactError::TooManyAttributes))
        ),
        "{refused:?}"
    );
    let p = s.contact_profile(org(&a), &v.id).await.unwrap().unwrap();
    assert_eq!(
        p.name.as_deref(),
        Some("Ann Lee"),
        "the whole patch rolled back"
    );
    assert_eq!(p.attributes.len(), 2);

    // Another organization neither reads nor changes it.
    assert!(s.contact_profile(org(&b), &v.id).await.unwrap().is_none());
    assert!(s.contact_detail(org(&b), &v.id).await.unwrap().is_none());
    assert!(matches!(
        s.update_contact(org(&b), &v.id, &patch(r#"{"name":"Mallory"}"#))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.contact_conversations(org(&b), &v.id, 50)
            .await
            .unwrap()
            .is_empty()
    );
    let p = s.contact_profile(org(&a), &v.id).await.unwrap().unwrap();
    assert_eq!(p.name.as_deref(), Some("Ann Lee"));
}

async fn attributes_keep_their_types_and_routing_reads_them_as_text(s: Store) {
    let a = tenant(&s, "a").await;
    let v = visitor(&s, &a).await;
    edit(
        &s,
        &a,
        &v.id,
        r#"{"attributes":{"seats":3,"vip":true,"plan":"pro"}}"#,
    )
    .await;
    // The widget's department choice merges text in and leaves the typed values alone.
    let dept: BTreeMap<String, String> = [("department".to_string(), "sales".to_string())]
        .into_iter()
        .collect();
    s.merge_contact_attributes(&v.id, &dept).await.unwrap();
    let p = s.contact_profile(org(&a), &v.id).await.unwrap().unwrap();
    assert_eq!(p.attributes["seats"], AttributeValue::Number(3.into()));
    assert_eq!(p.attributes["vip"], AttributeValue::Bool(true));
    assert_eq!(
        p.attributes["department"],
        AttributeValue::Text("sales".into())
    );
    // The list's attribute filter compares the value as text, on both databases alike.
    for (k, value, hit) in [
        ("seats", "3", true),
        ("seats", "3.0", false),
        ("vip", "true", true),
        ("vip", "1", false),
        ("plan", "pro", true),
        ("plan", "PRO", false),
        ("department", "sales", true),
        ("missing", "x", false),
    ] {
        let f = ContactFilter {
            attributes: vec![(k.into(), value.into())],
            ..Default::default()
        };
        let got = s.list_contacts(org(&a), &f).await.unwrap();
        // Listed at all: a named contact or one who talked; this one has neither yet.
        assert!(got.items.is_empty(), "an anonymous visitor is not listed");
        edit(&s, &a, &v.id, r#"{"name":"Typed"}"#).await;
        let got = s.list_contacts(org(&a), &f).await.unwrap();
        assert_eq!(got.items.len(), hit as usize, "attr.{k}={value}");
        edit(&s, &a, &v.id, r#"{"name":""}"#).await;
    }
}

async fn the_list_shows_people_and_searches_filters_and_pages_them(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let second_site = s
        .create_website(
            org(&a),
            &Name::parse("Blog").unwrap(),
            &Domain::parse("blog.a.test").unwrap(),
            "key-a-blog",
        )
        .await
        .unwrap();
    let t0 = 1_700_000_000_000;
    let mut ids = Vec::new();
    let people = [
        (
            r#"{"name":"Ann Lee","email":"ann@acme.test","company":"Acme"}"#,
            0,
        ),
        (r#"{"name":"Bob Stone","phone":"+49 (30) 555-0100"}"#, 1),
        (r#"{"name":"Carla 50%_off","email":"carla@shop.test"}"#, 2),
        (r#"{"company":"ACME Labs","attributes":{"plan":"pro"}}"#, 3),
        (
            r#"{"email":"dan@elsewhere.test","attributes":{"plan":"free"}}"#,
            4,
        ),
    ];
    for (json, i) in people {
        let v = visitor(&s, &a).await;
        edit(&s, &a, &v.id, json).await;
        seen_at(&s, &v.id, t0 + i * 1000).await;
        ids.push(v.id);
    }
    // A visitor who talked but gave no name is listed; one who only browsed is not.
    let talker = visitor(&s, &a).await;
    s.write(visitor_send(&a, &talker, "t1", "Hello?"))
        .await
        .unwrap();
    seen_at(&s, &talker.id, t0 + 5000).await;
    ids.push(talker.id.clone());
    let browser = visitor(&s, &a).await;
    seen_at(&s, &browser.id, t0 + 6000).await;
    // One on the second site, and one of another tenant with a matching name.
    let blogger = s
        .create_contact(&second_site, &VisitContext::default())
        .await
        .unwrap();
    edit(&s, &a, &blogger.id, r#"{"name":"Ann Blogger"}"#).await;
    seen_at(&s, &blogger.id, t0 + 7000).await;
    ids.push(blogger.id.clone());
    let stranger = visitor(&s, &b).await;
    edit(&s, &b, &stranger.id, r#"{"name":"Ann Other"}"#).await;

    let list = |f: ContactFilter| {
        let s = s.clone();
        let o = org(&a).clone();
        async move {
            s.list_contacts(&o, &f)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    let q = |text: &str| ContactFilter {
        search: Some(text.to_lowercase()),
        ..Default::default()
    };
    // Everyone known, most recently seen first; never the browser or another tenant's.
    let all: Vec<ContactId> = ids.iter().rev().cloned().collect();
    assert_eq!(list(ContactFilter::default()).await, all);

    // Search: name, email, phone or company, without regard to (ASCII) case.
    assert_eq!(list(q("ann")).await, vec![ids[6].clone(), ids[0].clone()]);
    assert_eq!(list(q("ACME")).await, vec![ids[3].clone(), ids[0].clone()]);
    assert_eq!(list(q("shop.test")).await, vec![ids[2].clone()]);
    assert_eq!(list(q("555-0100")).await, vec![ids[1].clone()]);
    assert_eq!(
        list(q("+49305550100")).await,
        vec![ids[1].clone()],
        "a number typed without separators"
    );
    // Wildcards in the search are text.
    assert_eq!(list(q("50%_")).await, vec![ids[2].clone()]);
    assert_eq!(list(q("%")).await, vec![ids[2].clone()]);
    assert_eq!(list(q("_")).await, vec![ids[2].clone()]);
    assert!(list(q("nobody")).await.is_empty());

    // Filters, alone and together.
    let site = ContactFilter {
        website: Some(second_site.id.clone()),
        ..Default::default()
    };
    assert_eq!(list(site).await, vec![ids[6].clone()]);
    let with_email = ContactFilter {
        has_email: Some(true),
        ..Default::default()
    };
    assert_eq!(
        list(with_email).await,
        vec![ids[4].clone(), ids[2].clone(), ids[0].clone()]
    );
    let without_email = ContactFilter {
        has_email: Some(false),
        ..Default::default()
    };
    assert_eq!(list(without_email).await.len(), 4);
    let window = ContactFilter {
        seen_after: Some(t0 + 1000),
        seen_before: Some(t0 + 4000),
        ..Default::default()
    };
    assert_eq!(
        list(window).await,
        vec![ids[3].clone(), ids[2].clone(), ids[1].clone()]
    );
    let plan = ContactFilter {
        attributes: vec![("plan".into(), "pro".into())],
        ..Default::default()
    };
    assert_eq!(list(plan).await, vec![ids[3].clone()]);
    let both = ContactFilter {
        search: Some("acme".into()),
        has_email: Some(true),
        ..Default::default()
    };
    assert_eq!(list(both).await, vec![ids[0].clone()]);
    // Another organization's website matches nothing.
    let foreign = ContactFilter {
        website: Some(b.site.id.clone()),
        ..Default::default()
    };
    assert!(list(foreign).await.is_empty());

    // Pages of two hold every contact once, in order.
    let mut paged = Vec::new();
    let mut f = ContactFilter {
        limit: 2,
        ..Default::default()
    };
    loop {
        let page = s.list_contacts(org(&a), &f).await.unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(page.items.into_iter().map(|c| c.id));
        let Some(next) = page.next_cursor else { break };
        let parsed =
            ContactFilter::parse(&[("cursor".into(), next), ("limit".into(), "2".into())]).unwrap();
        f = parsed;
    }
    assert_eq!(paged, all);
    // The same last-seen time is ordered by id, and pages stay exact.
    for id in &ids {
        seen_at(&s, id, t0).await;
    }
    let mut paged = Vec::new();
    let mut f = ContactFilter {
        limit: 3,
        ..Default::default()
    };
    loop {
        let page = s.list_contacts(org(&a), &f).await.unwrap();
        paged.extend(page.items.into_iter().map(|c| c.id));
        let Some(next) = page.next_cursor else { break };
        f = ContactFilter::parse(&[("cursor".into(), next), ("limit".into(), "3".into())]).unwrap();
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(paged, sorted);
}

async fn a_contact_lists_its_conversations_newest_first(s: Store) {
    let a = tenant(&s, "a").await;
    let v = visitor(&s, &a).await;
    let first = s
        .write(visitor_send(&a, &v, "c1", "First question"))
        .await
        .unwrap()
        .conversation;
    s.write(WriteOp::Act {
        scope: Scope::Organization(org(&a).clone()),
        conversation_id: first.id.clone(),
        action: Action::Take(agent_ref(&a)),
        actor: a.admin.id.clone(),
        role: Role::Admin,
    })
    .await
    .unwrap();
    s.write(WriteOp::Act {
        scope: Scope::Organization(org(&a).clone()),
        conversation_id: first.id.clone(),
        action: Action::Resolve { by: agent_ref(&a) },
        actor: a.admin.id.clone(),
        role: Role::Admin,
    })
    .await
    .unwrap();
    // A conversation of the same contact started later (as an email or API channel would).
    let later = 1_900_000_000_000i64;
    let second = ConversationId::new(later, 7);
    s.execute_admin(&format!(
        "INSERT INTO conversations (id, organization_id, website_id, contact_id, status, created_at, updated_at, last_message_preview) \
         VALUES ('{}', '{}', '{}', '{}', 'open', {later}, {later}, 'Second question')",
        second.as_str(),
        org(&a).as_str(),
        a.site.id.as_str(),
        v.id.as_str()
    ))
    .await
    .unwrap();
    let d = s.contact_detail(org(&a), &v.id).await.unwrap().unwrap();
    assert_eq!(d.contact.conversation_count, 2);
    let got: Vec<_> = d
        .conversations
        .iter()
        .map(|c| (c.id.clone(), c.status))
        .collect();
    assert_eq!(
        got,
        vec![
            (second.clone(), ConversationStatus::Open),
            (first.id.clone(), ConversationStatus::Resolved)
        ]
    );
    let resolved = &d.conversations[1];
    assert_eq!(
        resolved.assignee_name.as_deref(),
        Some(a.admin.name.as_str())
    );
    assert_eq!(
        resolved.last_message_preview.as_deref(),
        Some("First question")
    );
    assert_eq!(resolved.website_name, "Site");
}

async fn merging_moves_everything_to_the_kept_contact(s: Store) {
    let a = tenant(&s, "a").await;
    let kept = visitor(&s, &a).await;
    let other = visitor(&s, &a).await;
    let t0 = 1_700_000_000_000;
    edit(
        &s,
        &a,
        &kept.id,
        r#"{"name":"Ann","attributes":{"plan":"pro","seats":2}}"#,
    )
    .await;
    edit(
        &s,
        &a,
        &other.id,
        r#"{"name":"Annie","email":"ann@x.test","company":"Acme","attributes":{"plan":"free","vip":true}}"#,
    )
    .await;
    let kc = s
        .write(visitor_send(&a, &kept, "k1", "From the kept one"))
        .await
        .unwrap()
        .conversation;
    let oc = s
        .write(visitor_send(&a, &other, "o1", "From the other one"))
        .await
        .unwrap()
        .conversation;
    // Page trails and visits on both; the other contact's visit is the newer one.
    s.record_page_view(org(&a), &kept.id, &page("https://a.test/k"), t0)
        .await
        .unwrap();
    s.record_page_view(
        org(&a),
        &other.id,
        &page("https://a.test/o?utm_source=mail"),
        t0 + 1000,
    )
    .await
    .unwrap();
    s.record_page_view(org(&a), &other.id, &page("https://a.test/o2"), t0 + 2000)
        .await
        .unwrap();
    seen_at(&s, &kept.id, t0).await;
    seen_at(&s, &other.id, t0 + 5000).await;
    // The other contact was banned.
    s.create_ban(&NewBan {
        organization_id: org(&a),
        contact_id: &other.id,
        ip: None,
        reason: "spam",
        created_by: &a.admin.id,
        created_at: t0,
        expires_at: None,
    })
    .await
    .unwrap();
    // A third contact merged into the other one earlier.
    let third = visitor(&s, &a).await;
    seen_at(&s, &third.id, t0).await;
    s.merge_contacts(org(&a), &other.id, &third.id)
        .await
        .unwrap();

    let out = s
        .merge_contacts(org(&a), &kept.id, &other.id)
        .await
        .unwrap();
    let p = &out.detail.contact;
    assert_eq!(p.id, kept.id);
    assert_eq!(
        p.name.as_deref(),
        Some("Ann"),
        "the kept contact's name wins"
    );
    assert_eq!(p.email.as_deref(), Some("ann@x.test"), "blanks are filled");
    assert_eq!(p.company.as_deref(), Some("Acme"));
    assert_eq!(p.attributes["plan"], AttributeValue::Text("pro".into()));
    assert_eq!(p.attributes["seats"], AttributeValue::Number(2.into()));
    assert_eq!(p.attributes["vip"], AttributeValue::Bool(true));
    assert_eq!(p.last_seen_at, t0 + 5000, "seen as late as either");
    assert_eq!(p.conversation_count, 2);
    let listed: Vec<_> = out.detail.conversations.iter().map(|c| &c.id).collect();
    assert!(listed.contains(&&kc.id) && listed.contains(&&oc.id));
    assert_eq!(out.moved, vec![oc.id.clone()]);
    let moved = s.conversation(org(&a), &oc.id).await.unwrap().unwrap();
    assert_eq!(moved.contact_id, kept.id);
    assert_eq!(moved.contact_name.as_deref(), Some("Ann"));
    // Messages are untouched.
    let msgs = s.messages(&oc.id, 0, 100, false).await.unwrap();
    assert_eq!(msgs.items.len(), 1);
    assert_eq!(msgs.items[0].seq, 1);

    // The merged contacts are gone for agents.
    assert!(
        s.contact_profile(org(&a), &other.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.contact_profile(org(&a), &third.id)
            .await
            .unwrap()
            .is_none()
    );
    let all = s
        .list_contacts(org(&a), &ContactFilter::default())
        .await
        .unwrap();
    assert_eq!(
        all.items.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&kept.id]
    );
    assert!(matches!(
        s.update_contact(org(&a), &other.id, &patch(r#"{"name":"x"}"#))
            .await,
        Err(StoreError::NotFound)
    ));

    // One page trail, one visit with both counts, the newer visit's campaign.
    let trail = s.page_trail(org(&a), &kept.id).await.unwrap();
    assert_eq!(
        trail.iter().map(|p| p.url.as_str()).collect::<Vec<_>>(),
        [
            "https://a.test/o2",
            "https://a.test/o?utm_source=mail",
            "https://a.test/k"
        ]
    );
    let d = s
        .visitor_details(org(&a), &kept.id, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.visit_count, 2);
    assert_eq!(d.utm.source.as_deref(), Some("mail"));

    // The ban follows the person.
    assert!(
        s.is_banned(org(&a), Some(&kept.id), None, t0)
            .await
            .unwrap()
    );
    assert!(
        !s.is_banned(org(&a), Some(&other.id), None, t0)
            .await
            .unwrap()
    );

    // Both merged-away visitors' tokens now lead to the kept contact …
    for gone in [&other.id, &third.id, &kept.id] {
        let (o, c) = s.visitor_contact(gone, &a.site.id).await.unwrap().unwrap();
        assert_eq!((&o, &c.id), (org(&a), &kept.id));
    }
    // … but not through another tenant's website.
    let b = tenant_extra(&s, "b").await;
    assert!(
        s.visitor_contact(&other.id, &b.site.id)
            .await
            .unwrap()
            .is_none()
    );
    // A merged contact starts no conversation of its own.
    assert!(matches!(
        s.write(visitor_send(&a, &other, "o2", "Still there?"))
            .await,
        Err(StoreError::NotFound)
    ));
    // The kept contact's next message goes to its latest conversation.
    let next = s
        .write(visitor_send(&a, &kept, "k2", "Me again"))
        .await
        .unwrap();
    assert!(next.conversation.id == kc.id || next.conversation.id == oc.id);
}

async fn merges_are_refused_across_tenants_with_itself_and_twice(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let x = visitor(&s, &a).await;
    let y = visitor(&s, &a).await;
    let stranger = visitor(&s, &b).await;
    assert!(matches!(
        s.merge_contacts(org(&a), &x.id, &x.id).await,
        Err(StoreError::Contact(ContactError::MergeWithItself))
    ));
    for (o, k, m) in [
        (org(&a), &x.id, &stranger.id),
        (org(&a), &stranger.id, &x.id),
        (org(&b), &x.id, &y.id),
    ] {
        assert!(
            matches!(s.merge_contacts(o, k, m).await, Err(StoreError::NotFound)),
            "{k} <- {m}"
        );
    }
    assert!(
        s.contact_profile(org(&b), &stranger.id)
            .await
            .unwrap()
            .is_some()
    );
    s.merge_contacts(org(&a), &x.id, &y.id).await.unwrap();
    // Merged already: neither direction again.
    assert!(matches!(
        s.merge_contacts(org(&a), &x.id, &y.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.merge_contacts(org(&a), &y.id, &x.id).await,
        Err(StoreError::NotFound)
    ));
    // Two opposite merges at once: exactly one wins.
    let p = visitor(&s, &a).await;
    let q = visitor(&s, &a).await;
    let (r1, r2) = tokio::join!(
        s.merge_contacts(org(&a), &p.id, &q.id),
        s.merge_contacts(org(&a), &q.id, &p.id)
    );
    assert!(
        r1.is_ok() != r2.is_ok(),
        "one merge wins: {:?} / {:?}",
        r1.as_ref().err(),
        r2.as_ref().err()
    );
}
