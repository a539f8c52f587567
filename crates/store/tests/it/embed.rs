//! Storage conformance for a site's allowed domains: every test runs on SQLite and on
//! PostgreSQL (the `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`, as in
//! `conformance.rs`).

use frontdesk_core::*;

use crate::common::*;

conformance!(allowed_domains_are_kept_per_site_and_tenant_scoped);

async fn allowed_domains_are_kept_per_site_and_tenant_scoped(s: frontdesk_store::Store) {
    let a = tenant(&s, "a").await;
    let b = tenant_extra(&s, "b").await;
    // A new site has no list of its own.
    assert_eq!(a.site.allowed_domains, None);
    let list = vec!["*.a.test".to_owned(), "localhost:3000".to_owned()];
    s.set_allowed_domains(&a.admin.organization_id, &a.site.id, &list)
        .await
        .unwrap();
    let read = s.website_by_key(&a.site.site_key).await.unwrap().unwrap();
    assert_eq!(read.allowed_domains.as_deref(), Some(&list[..]));
    // Another organization cannot change it.
    let r = s
        .set_allowed_domains(
            &b.admin.organization_id,
            &a.site.id,
            &["evil.test".to_owned()],
        )
        .await;
    assert!(
        matches!(r, Err(frontdesk_store::StoreError::NotFound)),
        "{r:?}"
    );
    let read = s.website(&a.site.id).await.unwrap().unwrap();
    assert_eq!(read.allowed_domains.as_deref(), Some(&list[..]));
    let _: &WebsiteId = &b.site.id;
}
