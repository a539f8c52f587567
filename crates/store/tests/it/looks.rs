//! Storage conformance for the widget's look and agents' photos: every test runs on SQLite
//! and on PostgreSQL (the `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`).

use frontdesk_core::protocol::Contact;
use frontdesk_core::routing::{RoutingRule, RuleCondition, Strategy, TeamId};
use frontdesk_core::teams::{AwayAction, SiteRouting, TeamView};
use frontdesk_core::widget::{PageRule, WidgetLook, WidgetPosition};
use frontdesk_store::*;

use crate::common::*;

conformance!(
    a_site_has_the_default_look_until_one_is_set,
    another_tenants_site_look_reads_and_writes_as_not_found,
    an_agent_photo_replaced_hands_back_the_old_file,
    a_page_rule_with_a_team_routes_the_conversation_ahead_of_the_site_rules,
    a_page_rule_whose_team_was_deleted_routes_by_the_site_rules,
);

async fn team(s: &Store, t: &Tenant, name: &str) -> TeamId {
    s.save_team(
        &t.admin.organization_id,
        None,
        &TeamView {
            id: TeamId(String::new()),
            name: name.into(),
            strategy: Strategy::Manual,
            members: vec![t.agent.id.clone()],
            overflow: None,
            away_action: AwayAction::Return,
            hours: None,
        },
    )
    .await
    .unwrap()
    .id
}

async fn visitor_at(s: &Store, t: &Tenant, url: &str) -> Contact {
    s.create_contact(
        &t.site,
        &VisitContext {
            current_url: Some(url.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn first_team(s: &Store, t: &Tenant, v: &Contact) -> Option<TeamId> {
    let out = s
        .write(visitor_send(t, v, &format!("c-{}", v.id), "hello"))
        .await
        .unwrap();
    out.conversation.team_id
}

async fn a_site_has_the_default_look_until_one_is_set(s: Store) {
    let t = tenant(&s, "a").await;
    let org = &t.admin.organization_id;
    assert_eq!(
        s.widget_look(org, &t.site.id).await.unwrap(),
        WidgetLook::default()
    );
    let look = WidgetLook {
        color: "#0f766e".into(),
        position: WidgetPosition::BottomLeft,
        launcher_text: "Chat".into(),
        agents: vec![t.agent.id.clone()],
        welcome: "Hello there".into(),
        reply_minutes: Some(3),
        page_rules: vec![PageRule {
            url_pattern: "*/pricing*".into(),
            welcome: "Sales".into(),
            team: None,
        }],
    };
    s.set_widget_look(org, &t.site.id, &look, 1).await.unwrap();
    assert_eq!(s.widget_look(org, &t.site.id).await.unwrap(), look);
    // Set again: replaced, not duplicated.
    let again = WidgetLook {
        color: "#111111".into(),
        ..look
    };
    s.set_widget_look(org, &t.site.id, &again, 2).await.unwrap();
    assert_eq!(s.widget_look(org, &t.site.id).await.unwrap(), again);
}

async fn another_tenants_site_look_reads_and_writes_as_not_found(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let look = WidgetLook {
        color: "#ff0000".into(),
        ..WidgetLook::default()
    };
    assert!(matches!(
        s.widget_look(&b.admin.organization_id, &a.site.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_widget_look(&b.admin.organization_id, &a.site.id, &look, 1)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.widget_look(&a.admin.organization_id, &a.site.id)
            .await
            .unwrap(),
        WidgetLook::default()
    );
}

async fn an_agent_photo_replaced_hands_back_the_old_file(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org = &a.admin.organization_id;
    let f1 = "0123456789abcdef0123456789abcdef";
    let f2 = "fedcba9876543210fedcba9876543210";
    assert_eq!(
        s.set_agent_photo(org, &a.agent.id, f1, "image/png", 1)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.agent_photo(f1).await.unwrap().as_deref(),
        Some("image/png")
    );
    assert_eq!(
        s.set_agent_photo(org, &a.agent.id, f2, "image/jpeg", 2)
            .await
            .unwrap()
            .as_deref(),
        Some(f1)
    );
    assert_eq!(s.agent_photo(f1).await.unwrap(), None);
    let faces = s.agent_faces(org).await.unwrap();
    let face = faces.iter().find(|f| f.id == a.agent.id).unwrap();
    assert_eq!(face.photo.as_deref(), Some(f2));
    assert!(faces.iter().all(|f| f.id != b.agent.id));
    // Another organization can neither set nor clear it.
    assert!(matches!(
        s.set_agent_photo(&b.admin.organization_id, &a.agent.id, f1, "image/png", 3)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.clear_agent_photo(&b.admin.organization_id, &a.agent.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.clear_agent_photo(org, &a.agent.id)
            .await
            .unwrap()
            .as_deref(),
        Some(f2)
    );
    assert_eq!(s.agent_photo(f2).await.unwrap(), None);
}

async fn a_page_rule_with_a_team_routes_the_conversation_ahead_of_the_site_rules(s: Store) {
    let t = tenant(&s, "a").await;
    let org = &t.admin.organization_id;
    let sales = team(&s, &t, "Sales").await;
    let support = team(&s, &t, "Support").await;
    // The site routes everything to support.
    s.set_site_routing(
        org,
        &t.site.id,
        &SiteRouting {
            default_team: Some(support.clone()),
            rules: vec![RoutingRule {
                condition: RuleCondition::UrlPattern("*".into()),
                team: support.clone(),
                skill: None,
            }],
            ..SiteRouting::default()
        },
    )
    .await
    .unwrap();
    let look = WidgetLook {
        page_rules: vec![PageRule {
            url_pattern: "*/pricing*".into(),
            welcome: "Talk to sales".into(),
            team: Some(sales.clone()),
        }],
        ..WidgetLook::default()
    };
    s.set_widget_look(org, &t.site.id, &look, 1).await.unwrap();
    let on_pricing = visitor_at(&s, &t, "https://a.test/pricing?plan=pro").await;
    assert_eq!(first_team(&s, &t, &on_pricing).await, Some(sales));
    let elsewhere = visitor_at(&s, &t, "https://a.test/docs").await;
    assert_eq!(first_team(&s, &t, &elsewhere).await, Some(support));
}

async fn a_page_rule_whose_team_was_deleted_routes_by_the_site_rules(s: Store) {
    let t = tenant(&s, "a").await;
    let org = &t.admin.organization_id;
    let sales = team(&s, &t, "Sales").await;
    let support = team(&s, &t, "Support").await;
    s.set_site_routing(
        org,
        &t.site.id,
        &SiteRouting {
            default_team: Some(support.clone()),
            ..SiteRouting::default()
        },
    )
    .await
    .unwrap();
    let look = WidgetLook {
        page_rules: vec![PageRule {
            url_pattern: "*/pricing*".into(),
            welcome: String::new(),
            team: Some(sales.clone()),
        }],
        ..WidgetLook::default()
    };
    s.set_widget_look(org, &t.site.id, &look, 1).await.unwrap();
    s.delete_team(org, &sales).await.unwrap();
    let v = visitor_at(&s, &t, "https://a.test/pricing").await;
    assert_eq!(first_team(&s, &t, &v).await, Some(support));
}
