//! Storage conformance for files: every test runs on SQLite and on PostgreSQL (the
//! `postgres::` copies need `FRONTDESK_TEST_POSTGRES_URL`, as in `conformance.rs`).

use frontdesk_core::conversation::AgentRef;
use frontdesk_core::files::*;
use frontdesk_core::protocol::*;
use frontdesk_core::*;
use frontdesk_store::*;

use crate::common::*;

conformance!(
    a_visitors_file_is_bound_once_to_the_message_that_sends_it,
    only_the_uploaders_unsent_files_can_be_sent,
    files_in_notes_stay_with_agents_and_tenants_stay_apart,
    a_message_of_files_alone_has_no_text_and_a_preview,
    unsent_files_are_bounded_and_swept,
);

fn new_file(
    org: &OrganizationId,
    uploader: Uploader,
    conv: Option<&ConversationId>,
) -> NewAttachment {
    NewAttachment {
        id: AttachmentId::new(rand_u128()),
        organization_id: org.clone(),
        conversation_id: conv.cloned(),
        uploader,
        name: "photo.png".into(),
        content_type: "image/png".into(),
        size: 1234,
        sha256: "00".repeat(32),
    }
}

fn rand_u128() -> u128 {
    rand::random()
}

async fn upload(s: &Store, f: &NewAttachment) -> Attachment {
    s.create_attachment(f, now_ms()).await.unwrap()
}

fn with_files(mut op: WriteOp, ids: &[&AttachmentId]) -> WriteOp {
    if let WriteOp::Send { attachments, .. } = &mut op {
        *attachments = ids.iter().map(|id| (*id).clone()).collect();
    }
    op
}

fn agent_send_as(
    org: &OrganizationId,
    who: &AgentView,
    conv: &ConversationId,
    client_id: &str,
    note: bool,
    ids: &[&AttachmentId],
) -> WriteOp {
    WriteOp::Send {
        scope: Scope::Organization(org.clone()),
        target: Target::Conversation(conv.clone()),
        client_id: Some(ClientId::parse(client_id).unwrap()),
        kind: if note {
            MessageKind::Note
        } else {
            MessageKind::Agent
        },
        author: Some(AgentRef {
            id: who.id.clone(),
            name: who.name.clone(),
        }),
        text: MessageText::parse("see attached").unwrap(),
        attachments: ids.iter().map(|id| (*id).clone()).collect(),
    }
}

async fn a_visitors_file_is_bound_once_to_the_message_that_sends_it(s: Store) {
    let t = tenant(&s, "a").await;
    let org = t.admin.organization_id.clone();
    let v = visitor(&s, &t).await;
    let photo = upload(&s, &new_file(&org, Uploader::Visitor(v.id.clone()), None)).await;
    let doc = upload(&s, &new_file(&org, Uploader::Visitor(v.id.clone()), None)).await;
    assert!(photo.image);
    assert_eq!(photo.url, format!("/files/{}/photo.png", photo.id));

    // Before it is sent, only its uploader (and the organization) can reach it.
    assert!(
        s.attachment_for_visitor(&v.id, &photo.id)
            .await
            .unwrap()
            .is_some()
    );
    let other = visitor(&s, &t).await;
    assert!(
        s.attachment_for_visitor(&other.id, &photo.id)
            .await
            .unwrap()
            .is_none()
    );

    // Sent as the first message: the conversation starts with it, in the order given.
    let send = with_files(visitor_send(&t, &v, "c1", "look"), &[&doc.id, &photo.id]);
    let out = s.write(send.clone()).await.unwrap();
    let m = out.messages.last().unwrap();
    assert_eq!(m.attachments, vec![doc.clone(), photo.clone()]);
    let conv = out.conversation.id.clone();

    // Both sides read it back with the message, in the same order.
    for visitor_side in [false, true] {
        let page = s.messages(&conv, 0, 100, visitor_side).await.unwrap();
        let got = page
            .items
            .iter()
            .find(|x| x.client_id.as_deref() == Some("c1"))
            .unwrap();
        assert_eq!(got.attachments, vec![doc.clone(), photo.clone()]);
    }

    // A retry with the same client id is the same message, files and all.
    let again = s.write(send).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.messages[0].id, m.id);
    assert_eq!(again.messages[0].attachments.len(), 2);

    // A file is sent once: naming it again in a new message is refused, and nothing is stored.
    let r = s
        .write(with_files(
            visitor_send(&t, &v, "c2", "again"),
            &[&photo.id],
        ))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let page = s.messages(&conv, 0, 100, false).await.unwrap();
    assert!(
        page.items
            .iter()
            .all(|x| x.client_id.as_deref() != Some("c2"))
    );

    // Sent, it is the conversation's: its visitor and the organization reach it, nobody else.
    assert!(
        s.attachment_for_visitor(&v.id, &photo.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.attachment_for_visitor(&other.id, &photo.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.attachment_for_agent(&org, &photo.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(!s.delete_unsent_attachment(&photo.id).await.unwrap());
}

async fn only_the_uploaders_unsent_files_can_be_sent(s: Store) {
    let t = tenant(&s, "a").await;
    let org = t.admin.organization_id.clone();
    let v = visitor(&s, &t).await;
    let stranger = visitor(&s, &t).await;
    let theirs = upload(&s, &new_file(&org, Uploader::Visitor(v.id.clone()), None)).await;

    // Another visitor cannot send it, and their refused first message starts nothing.
    let r = s
        .write(with_files(
            visitor_send(&t, &stranger, "s1", "mine now"),
            &[&theirs.id],
        ))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    assert!(s.latest_conversation(&stranger.id).await.unwrap().is_none());

    // Unknown ids, and one file named twice, are refused too.
    let unknown = AttachmentId::new(7);
    for ids in [vec![&unknown], vec![&theirs.id, &theirs.id]] {
        let r = s
            .write(with_files(visitor_send(&t, &v, "v1", "x"), &ids))
            .await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    }
    assert!(s.latest_conversation(&v.id).await.unwrap().is_none());

    // Agents: a file uploaded to one conversation goes only there, and only from its uploader.
    let conv = s
        .write(visitor_send(&t, &v, "v2", "hello"))
        .await
        .unwrap()
        .conversation
        .id;
    let elsewhere = s
        .write(visitor_send(&t, &stranger, "s2", "hi"))
        .await
        .unwrap()
        .conversation
        .id;
    let admins = upload(
        &s,
        &new_file(&org, Uploader::Agent(t.admin.id.clone()), Some(&conv)),
    )
    .await;
    let r = s
        .write(agent_send_as(
            &org,
            &t.admin,
            &elsewhere,
            "a1",
            false,
            &[&admins.id],
        ))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let r = s
        .write(agent_send_as(
            &org,
            &t.agent,
            &conv,
            "a2",
            true,
            &[&admins.id],
        ))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    // Nor can a visitor send an agent's file in their own conversation.
    let r = s
        .write(with_files(visitor_send(&t, &v, "v3", "x"), &[&admins.id]))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let out = s
        .write(agent_send_as(
            &org,
            &t.admin,
            &conv,
            "a3",
            false,
            &[&admins.id],
        ))
        .await
        .unwrap();
    assert_eq!(out.messages.last().unwrap().attachments, vec![admins]);
}

async fn files_in_notes_stay_with_agents_and_tenants_stay_apart(s: Store) {
    let t = tenant(&s, "a").await;
    let other = tenant_extra(&s, "b").await;
    let org = t.admin.organization_id.clone();
    let v = visitor(&s, &t).await;
    let conv = s
        .write(visitor_send(&t, &v, "v1", "hello"))
        .await
        .unwrap()
        .conversation
        .id;
    let secret = upload(
        &s,
        &new_file(&org, Uploader::Agent(t.admin.id.clone()), Some(&conv)),
    )
    .await;
    s.write(agent_send_as(
        &org,
        &t.admin,
        &conv,
        "n1",
        true,
        &[&secret.id],
    ))
    .await
    .unwrap();
    // The visitor never sees the note, nor may fetch its file.
    let page = s.messages(&conv, 0, 100, true).await.unwrap();
    assert!(page.items.iter().all(|m| m.attachments.is_empty()));
    assert!(
        s.attachment_for_visitor(&v.id, &secret.id)
            .await
            .unwrap()
            .is_none()
    );
    // Colleagues may; another organization may not.
    assert!(
        s.attachment_for_agent(&org, &secret.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.attachment_for_agent(&other.admin.organization_id, &secret.id)
            .await
            .unwrap()
            .is_none()
    );
    // An agent of another organization cannot send a file into this one's conversation.
    let theirs = upload(
        &s,
        &new_file(
            &other.admin.organization_id,
            Uploader::Agent(other.admin.id.clone()),
            None,
        ),
    )
    .await;
    let r = s
        .write(agent_send_as(
            &org,
            &other.admin,
            &conv,
            "x1",
            false,
            &[&theirs.id],
        ))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

async fn a_message_of_files_alone_has_no_text_and_a_preview(s: Store) {
    let t = tenant(&s, "a").await;
    let org = t.admin.organization_id.clone();
    let v = visitor(&s, &t).await;
    let one = upload(&s, &new_file(&org, Uploader::Visitor(v.id.clone()), None)).await;
    let mut op = visitor_send(&t, &v, "c1", "x");
    if let WriteOp::Send {
        text, attachments, ..
    } = &mut op
    {
        *text = MessageText::parse_with_files("", true).unwrap();
        *attachments = vec![one.id.clone()];
    }
    let out = s.write(op).await.unwrap();
    assert_eq!(out.messages.last().unwrap().text, "");
    assert_eq!(
        out.conversation.last_message_preview.as_deref(),
        Some("📎 photo.png")
    );
}

async fn unsent_files_are_bounded_and_swept(s: Store) {
    let t = tenant(&s, "a").await;
    let org = t.admin.organization_id.clone();
    let v = visitor(&s, &t).await;
    let mut ids = Vec::new();
    for _ in 0..MAX_UNSENT_FILES {
        ids.push(
            upload(&s, &new_file(&org, Uploader::Visitor(v.id.clone()), None))
                .await
                .id,
        );
    }
    let r = s
        .create_attachment(
            &new_file(&org, Uploader::Visitor(v.id.clone()), None),
            now_ms(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::TooManyFiles)), "{r:?}");
    // Someone else is not held back by it.
    let other = visitor(&s, &t).await;
    upload(
        &s,
        &new_file(&org, Uploader::Visitor(other.id.clone()), None),
    )
    .await;

    // Sending one makes room; the sweep finds the rest.
    s.write(with_files(visitor_send(&t, &v, "c1", "one"), &[&ids[0]]))
        .await
        .unwrap();
    upload(&s, &new_file(&org, Uploader::Visitor(v.id.clone()), None)).await;
    let old = s
        .unsent_attachments_before(now_ms() + 1, 1000)
        .await
        .unwrap();
    assert_eq!(old.len() as i64, MAX_UNSENT_FILES + 1);
    assert!(!old.contains(&ids[0]));
    assert!(
        s.unsent_attachments_before(0, 1000)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.delete_unsent_attachment(&ids[1]).await.unwrap());
    assert!(!s.delete_unsent_attachment(&ids[1]).await.unwrap());
    assert!(
        s.attachment_for_agent(&org, &ids[1])
            .await
            .unwrap()
            .is_none()
    );
}
