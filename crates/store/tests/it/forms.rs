//! Storage conformance for the widget's forms: a site's settings, pre-chat answers taken by the
//! conversation the first message creates, and one rating per conversation. Every test runs on
//! SQLite and on PostgreSQL (the `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`).

use frontdesk_core::contacts::AttributeValue;
use frontdesk_core::prechat::*;
use frontdesk_store::*;

use crate::common::*;

conformance!(
    site_forms_default_then_save_within_their_tenant,
    answers_wait_for_the_first_conversation_and_are_replaced_not_added,
    a_conversation_has_one_rating_and_tenants_see_only_their_own,
);

fn answer(key: &str, value: &str) -> FormAnswer {
    FormAnswer {
        key: key.into(),
        label: key.to_uppercase(),
        kind: FieldKind::Text,
        value: AttributeValue::Text(value.into()),
    }
}

async fn site_forms_default_then_save_within_their_tenant(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org = &a.site.organization_id;
    let d = s.site_forms_in_org(org, &a.site.id).await.unwrap();
    assert_eq!(d, SiteForms::default());
    assert!(d.end_of_chat.csat && !d.end_of_chat.ces);

    let mut f = SiteForms::default();
    f.prechat.enabled = true;
    f.prechat.fields.push(FormField {
        key: "plan".into(),
        kind: FieldKind::Select,
        label: "Plan".into(),
        required: true,
        options: vec!["Free".into(), "Pro".into()],
    });
    f.end_of_chat = EndOfChat {
        csat: true,
        ces: true,
    };
    assert_eq!(s.save_site_forms(org, &a.site.id, &f, 1).await.unwrap(), f);
    // Saved again: replaced, not added.
    f.end_of_chat.ces = false;
    s.save_site_forms(org, &a.site.id, &f, 2).await.unwrap();
    assert_eq!(s.site_forms(&a.site.id).await.unwrap(), f);

    // Another organization can neither read nor write this site's forms.
    let other = &b.site.organization_id;
    assert!(matches!(
        s.site_forms_in_org(other, &a.site.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.save_site_forms(other, &a.site.id, &SiteForms::default(), 3)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.site_forms(&a.site.id).await.unwrap(), f);
    assert_eq!(
        s.site_forms(&b.site.id).await.unwrap(),
        SiteForms::default()
    );
}

async fn answers_wait_for_the_first_conversation_and_are_replaced_not_added(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org = &a.site.organization_id;
    let v = visitor(&s, &a).await;
    s.save_form_answers(org, &v.id, None, &[answer("order", "first")], false, 10)
        .await
        .unwrap();
    s.save_form_answers(org, &v.id, None, &[answer("order", "A-1")], true, 11)
        .await
        .unwrap();
    let out = s.write(visitor_send(&a, &v, "c1", "hello")).await.unwrap();
    let conv = out.conversation.id.clone();
    let f = s.conversation_feedback(org, &conv).await.unwrap();
    let form = f
        .form
        .expect("the first message's conversation took the answers");
    assert_eq!(form.answers, vec![answer("order", "A-1")]);
    assert!(form.offline);
    assert_eq!(form.submitted_at, 11);
    assert_eq!(f.rating, None);

    // Given again once the conversation exists: that conversation's answers are replaced.
    s.save_form_answers(
        org,
        &v.id,
        Some(&conv),
        &[answer("order", "B-2")],
        false,
        12,
    )
    .await
    .unwrap();
    let form = s
        .conversation_feedback(org, &conv)
        .await
        .unwrap()
        .form
        .unwrap();
    assert_eq!(form.answers, vec![answer("order", "B-2")]);
    assert!(!form.offline);

    // Another visitor's first conversation takes only their own answers.
    let w = visitor(&s, &a).await;
    let other = s.write(visitor_send(&a, &w, "c2", "hi")).await.unwrap();
    let none = s
        .conversation_feedback(org, &other.conversation.id)
        .await
        .unwrap();
    assert_eq!(none, ConversationFeedback::default());

    // Another organization reads nothing of it.
    let theirs = s
        .conversation_feedback(&b.site.organization_id, &conv)
        .await
        .unwrap();
    assert_eq!(theirs, ConversationFeedback::default());
}

async fn a_conversation_has_one_rating_and_tenants_see_only_their_own(s: Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    let org = &a.site.organization_id;
    let v = visitor(&s, &a).await;
    let conv = s
        .write(visitor_send(&a, &v, "c1", "hello"))
        .await
        .unwrap()
        .conversation
        .id;
    let first = Rating {
        csat: 2,
        ces: Some(3),
        comment: Some("Slow".into()),
        rated_at: 100,
    };
    s.rate_conversation(org, &conv, &first).await.unwrap();
    let second = Rating {
        csat: 4,
        ces: None,
        comment: Some("Quick and helpful".into()),
        rated_at: 200,
    };
    s.rate_conversation(org, &conv, &second).await.unwrap();
    assert_eq!(
        s.conversation_feedback(org, &conv).await.unwrap().rating,
        Some(second.clone())
    );

    // Another organization cannot rate it, nor read the rating.
    let other = &b.site.organization_id;
    assert!(matches!(
        s.rate_conversation(other, &conv, &first).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.conversation_feedback(other, &conv).await.unwrap().rating,
        None
    );
    assert_eq!(
        s.conversation_feedback(org, &conv).await.unwrap().rating,
        Some(second)
    );
}
