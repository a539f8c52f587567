//! Fixtures shared by the storage tests.
#![allow(dead_code)]

use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::*;
use frontdesk_core::*;
use frontdesk_store::*;

pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
    s.migrate().await.unwrap();
    (s, dir)
}

/// A store on a brand-new PostgreSQL database.
pub async fn postgres_store() -> Store {
    let base = std::env::var("FRONTDESK_TEST_POSTGRES_URL")
        .expect("FRONTDESK_TEST_POSTGRES_URL must name a PostgreSQL database (scripts/test-postgres.sh sets it)");
    let name = format!("fdtest_{}", uuid::Uuid::now_v7().simple());
    let admin = Store::open_postgres(&base).await.unwrap();
    admin
        .execute_admin(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await;
    let url = match base.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{name}"),
        None => panic!("bad FRONTDESK_TEST_POSTGRES_URL"),
    };
    let s = Store::open_postgres(&url).await.unwrap();
    s.migrate().await.unwrap();
    s
}

pub struct Tenant {
    pub admin: AgentView,
    pub agent: AgentView,
    pub site: Website,
}

pub async fn tenant(s: &Store, tag: &str) -> Tenant {
    make_tenant(s, tag, Some("setup_done")).await
}

pub async fn tenant_extra(s: &Store, tag: &str) -> Tenant {
    make_tenant(s, tag, None).await
}

async fn make_tenant(s: &Store, tag: &str, once: Option<&str>) -> Tenant {
    let (admin, site) = s
        .create_organization(
            &Name::parse(&format!("Org {tag}")).unwrap(),
            (
                &Email::parse(&format!("admin@{tag}.test")).unwrap(),
                &Name::parse(&format!("Admin {tag}")).unwrap(),
                "hash",
            ),
            (
                &Name::parse("Site").unwrap(),
                &Domain::parse(&format!("{tag}.test")).unwrap(),
                &format!("key-{tag}"),
            ),
            once,
        )
        .await
        .unwrap();
    let agent = s
        .create_agent(&NewAgent {
            organization_id: admin.organization_id.clone(),
            email: Email::parse(&format!("agent@{tag}.test")).unwrap(),
            name: Name::parse(&format!("Agent {tag}")).unwrap(),
            password_hash: "hash".into(),
            role: Role::Agent,
        })
        .await
        .unwrap();
    Tenant { admin, agent, site }
}

pub async fn visitor(s: &Store, t: &Tenant) -> Contact {
    s.create_contact(&t.site, &VisitContext::default())
        .await
        .unwrap()
}

pub fn agent_ref(t: &Tenant) -> AgentRef {
    AgentRef {
        id: t.admin.id.clone(),
        name: t.admin.name.clone(),
    }
}

pub fn visitor_send(t: &Tenant, v: &Contact, client_id: &str, text: &str) -> WriteOp {
    WriteOp::Send {
        scope: Scope::Contact(v.id.clone()),
        target: Target::LatestOfContact {
            contact_id: v.id.clone(),
            organization_id: t.site.organization_id.clone(),
            website_id: t.site.id.clone(),
        },
        client_id: Some(ClientId::parse(client_id).unwrap()),
        kind: MessageKind::Visitor,
        author: None,
        text: MessageText::parse(text).unwrap(),
        attachments: Vec::new(),
    }
}

pub fn agent_send(
    t: &Tenant,
    conv: &ConversationId,
    client_id: &str,
    text: &str,
    note: bool,
) -> WriteOp {
    WriteOp::Send {
        scope: Scope::Organization(t.admin.organization_id.clone()),
        target: Target::Conversation(conv.clone()),
        client_id: Some(ClientId::parse(client_id).unwrap()),
        kind: if note {
            MessageKind::Note
        } else {
            MessageKind::Agent
        },
        author: Some(agent_ref(t)),
        text: MessageText::parse(text).unwrap(),
        attachments: Vec::new(),
    }
}

/// Runs each listed storage test once per backend: `mod sqlite` in the main suite, `mod
/// postgres` in the PostgreSQL suite (which needs `FRONTDESK_TEST_POSTGRES_URL`).
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = $crate::common::sqlite_store().await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = $crate::common::postgres_store().await;
                    super::$name(store).await;
                }
            )*
        }
    };
}
