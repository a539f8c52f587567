//! Files over the real API and sockets, on both databases: a visitor's image reaches the agent
//! with its metadata; hostile uploads (script in SVG, HTML, a file that lies about its type,
//! one too large, hostile names) are refused with typed errors or served safely; downloads
//! reach only the people who may see them; sends check whose files they carry.

use crate::common::*;
use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::{Message, ServerFrame};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_backends!(
    a_visitors_image_reaches_the_agent_who_downloads_it,
    hostile_uploads_are_refused_with_typed_errors,
    hostile_names_are_made_safe_and_downloads_are_attachments,
    downloads_reach_only_the_people_who_may_see_them,
    sends_carry_only_the_senders_own_unsent_files,
);

/// A real 1×1 PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\xda\x63\xf0\x77\x7b\x0a\x00\x02\x62\x01\x7b\xff\xdb\xac\xdd\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What a request got back: status, headers and the raw body.
struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    #[track_caller]
    fn refused(&self, status: u16, code: &str) {
        let j = self.json();
        assert_eq!(
            (self.status, j["code"].as_str()),
            (status, Some(code)),
            "{j}"
        );
        assert_eq!(self.header("content-type"), "application/problem+json");
    }
    #[track_caller]
    fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.json());
        self.json()
    }
}

async fn send(r: reqwest::RequestBuilder) -> Got {
    let r = r.send().await.unwrap();
    Got {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

/// A visitor uploads `bytes` as `name`, claiming `content_type` (which is never believed).
async fn visitor_upload(
    t: &TestServer,
    token: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Got {
    send(
        reqwest::Client::new()
            .post(format!(
                "{}/api/v1/widget/attachments?name={}",
                t.url,
                enc(name)
            ))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes.to_vec()),
    )
    .await
}

/// An agent uploads `bytes` as `name` to a conversation.
async fn agent_upload(b: &Browser, conv: &str, name: &str, bytes: &[u8]) -> Got {
    let mut r = b
        .http
        .post(format!(
            "{}/api/v1/conversations/{conv}/attachments?name={}",
            b.base,
            enc(name)
        ))
        .header("Origin", b.base.clone())
        .body(bytes.to_vec());
    if let Some(c) = &b.cookie {
        r = r.header("Cookie", c.clone());
    }
    send(r).await
}

/// Downloads a file's URL as an agent (their cookie) or as a visitor (their token).
async fn download(
    t: &TestServer,
    url: &str,
    agent: Option<&Browser>,
    visitor: Option<&str>,
) -> Got {
    let mut r = reqwest::Client::new().get(format!("{}{url}", t.url));
    if let Some(c) = agent.and_then(|b| b.cookie.as_ref()) {
        r = r.header("Cookie", c.clone());
    }
    if let Some(tok) = visitor {
        r = r.bearer_auth(tok);
    }
    send(r).await
}

/// Sends a message with files over a socket; the ack's message, or the error's code.
async fn say_with_files(
    c: &mut Client,
    client_id: &str,
    conv: Option<&str>,
    text: &str,
    files: &[&str],
    note: bool,
) -> Result<Message, ErrorCode> {
    c.send(json!({"type": "send", "client_id": client_id, "conversation_id": conv, "text": text, "note": note, "attachments": files}))
        .await;
    let cid = client_id.to_owned();
    match c
        .expect(|f| match f {
            ServerFrame::Ack { client_id, .. } => *client_id == cid,
            ServerFrame::Error {
                client_id: Some(x), ..
            } => *x == cid,
            _ => false,
        })
        .await
    {
        ServerFrame::Ack { message, .. } => Ok(message),
        ServerFrame::Error { code, .. } => Err(code),
        _ => unreachable!(),
    }
}

/// The blobs kept on disk: file names under `<data_dir>/files`, staging excluded.
fn blobs_on_disk(t: &TestServer) -> Vec<String> {
    let mut out = Vec::new();
    let root = t.config.data_dir.join("files");
    for dir in std::fs::read_dir(&root).unwrap().flatten() {
        if dir.file_name() == ".incoming" {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            out.push(f.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

fn staging_is_empty(t: &TestServer) -> bool {
    std::fs::read_dir(t.config.data_dir.join("files/.incoming"))
        .unwrap()
        .next()
        .is_none()
}

/// A visitor who has written once, their token, and their conversation id.
async fn chatting(t: &TestServer, site_key: &str) -> (String, Client, String) {
    let token = visitor_token(t, site_key).await;
    let mut v = Client::visitor(t, &token).await;
    let m = v.say("c-hello", None, "Hello").await.unwrap();
    (token, v, m.conversation_id.0)
}

async fn a_visitors_image_reaches_the_agent_who_downloads_it(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let mut admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let mut agent = Client::agent(&t, &admin).await;
    let token = visitor_token(&t, &ten.site_key).await;
    let mut v = Client::visitor(&t, &token).await;

    // The welcome says how large a file may be.
    assert!(v.seen.iter().any(|f| matches!(
        f,
        ServerFrame::Welcome { max_upload_bytes, .. } if *max_upload_bytes == 10 * 1024 * 1024
    )));

    let up = visitor_upload(&t, &token, "Beach photo.png", "image/png", PNG).await;
    let file = up.ok();
    assert_eq!(file["name"], "Beach photo.png");
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(file["size"], PNG.len());
    assert_eq!(file["image"], true);
    let id = file["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(file["url"], format!("/files/{id}/Beach%20photo.png"));
    let url = file["url"].as_str().unwrap().to_owned();

    // Sent on its own as the visitor's first message: no text needed.
    let m = say_with_files(&mut v, "c1", None, "", &[&id], false)
        .await
        .unwrap();
    assert_eq!(m.text, "");
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].id.0, id);

    // The agent hears it live with the file's metadata, and the conversation's preview names it.
    let f = agent
        .expect(|f| matches!(f, ServerFrame::Message { message } if message.client_id.as_deref() == Some("c1")))
        .await;
    let ServerFrame::Message { message } = f else {
        unreachable!()
    };
    assert_eq!(message.attachments[0].url, url);
    assert!(message.attachments[0].image);
    let ServerFrame::Conversation { conversation } = agent
        .expect(|f| matches!(f, ServerFrame::Conversation { conversation } if conversation.id == message.conversation_id))
        .await
    else {
        unreachable!()
    };
    assert_eq!(
        conversation.last_message_preview.as_deref(),
        Some("📎 Beach photo.png")
    );
    // And reads it in the history over REST.
    let (_, page) = admin
        .get(&format!(
            "/api/v1/conversations/{}/messages",
            message.conversation_id
        ))
        .await;
    assert_eq!(page["items"][0]["attachments"][0]["id"], id);

    // Both download it: the same bytes, as an image shown inline, safely.
    for got in [
        download(&t, &url, Some(&admin), None).await,
        download(&t, &url, None, Some(&token)).await,
    ] {
        assert_eq!(got.status, 200);
        assert_eq!(got.body, PNG);
        assert_eq!(got.header("content-type"), "image/png");
        assert_eq!(
            got.header("content-disposition"),
            "inline; filename=\"Beach photo.png\"; filename*=UTF-8''Beach%20photo.png"
        );
        assert_eq!(got.header("x-content-type-options"), "nosniff");
        assert_eq!(
            got.header("content-security-policy"),
            "default-src 'none'; sandbox"
        );
        assert!(got.header("cache-control").starts_with("private"));
    }

    // On disk the file is named by its id alone.
    assert_eq!(blobs_on_disk(&t), vec![id.clone()]);

    // A file far past the JSON body limit (64 KiB) is fine under `max_upload_bytes`.
    let mut big = PNG.to_vec();
    big.resize(3 * 1024 * 1024, 7);
    let got = visitor_upload(&t, &token, "big.png", "image/png", &big)
        .await
        .ok();
    assert_eq!(got["size"], big.len());

    let got = download(&t, got["url"].as_str().unwrap(), None, Some(&token)).await;
    assert_eq!(got.body.len(), big.len());
    assert_eq!(got.header("content-length"), big.len().to_string());

    // An agent's reply may carry a file too; the visitor gets it, and may download it.
    let conv = message.conversation_id.0.clone();
    let up = agent_upload(&admin, &conv, "invoice.pdf", PDF).await;
    let pdf = up.ok();
    assert_eq!(pdf["image"], false);
    let (status, body) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id": "a1", "text": "Here is your invoice", "attachments": [pdf["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ServerFrame::Message { message } = v
        .expect(|f| matches!(f, ServerFrame::Message { message } if message.text == "Here is your invoice"))
        .await
    else {
        unreachable!()
    };
    assert_eq!(message.attachments[0].name, "invoice.pdf");
    let got = download(&t, &message.attachments[0].url, None, Some(&token)).await;
    assert_eq!((got.status, got.body.as_slice()), (200, PDF));
    assert_eq!(got.header("content-type"), "application/pdf");
    assert!(
        got.header("content-disposition")
            .starts_with("attachment; filename=\"invoice.pdf\"")
    );
    t.stop().await;
}

async fn hostile_uploads_are_refused_with_typed_errors(backend: Backend) {
    let t = TestServer::start_with(backend, |c| c.max_upload_bytes = 4096).await;
    let ten = tenant(&t, "a").await;
    let token = visitor_token(&t, &ten.site_key).await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>"#;
    let html = b"<!doctype html><html><body><script>fetch('/api/v1/me')</script></body></html>";
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode.";
    let cases: [(&str, &str, &[u8]); 7] = [
        ("cat.svg", "image/svg+xml", svg),
        ("page.html", "text/html", html),
        // Lies: a PNG by name and header, HTML or an executable by its bytes.
        ("photo.png", "image/png", html),
        ("photo.png", "image/png", exe),
        ("setup.exe", "application/octet-stream", exe),
        (
            "data.xml",
            "application/xml",
            b"<?xml version=\"1.0\"?><x/>",
        ),
        ("empty.txt", "text/plain", b""),
    ];
    for (name, ct, bytes) in cases {
        visitor_upload(&t, &token, name, ct, bytes)
            .await
            .refused(415, "file_type_not_allowed");
    }
    let agent = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let (_, _, conv) = chatting(&t, &ten.site_key).await;
    agent_upload(&agent, &conv, "x.png", svg)
        .await
        .refused(415, "file_type_not_allowed");

    // Too large: refused by its declared length, and by counting when it declares none.
    let mut big = PNG.to_vec();
    big.resize(4097, 0);
    visitor_upload(&t, &token, "big.png", "image/png", &big)
        .await
        .refused(413, "file_too_large");
    let (status, body) = chunked_upload(&t, &token, 64 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("file_too_large"), "{body}");
    // Exactly at the limit is fine.
    big.truncate(4096);
    visitor_upload(&t, &token, "big.png", "image/png", &big)
        .await
        .ok();

    // Without a valid token nothing is received.
    visitor_upload(&t, "v1.forged", "a.png", "image/png", PNG)
        .await
        .refused(401, "invalid_visitor_token");
    let anon = send(
        reqwest::Client::new()
            .post(format!("{}/api/v1/widget/attachments?name=a.png", t.url))
            .body(PNG.to_vec()),
    )
    .await;
    anon.refused(401, "invalid_visitor_token");
    // An agent's upload needs a session and this server's Origin.
    agent_upload(&Browser::new(&t.url), &conv, "a.png", PNG)
        .await
        .refused(401, "unauthenticated");
    let csrf = send(
        reqwest::Client::new()
            .post(format!(
                "{}/api/v1/conversations/{conv}/attachments?name=a.png",
                t.url
            ))
            .header("Cookie", agent.cookie.clone().unwrap())
            .header("Origin", "https://evil.test")
            .body(PNG.to_vec()),
    )
    .await;
    csrf.refused(403, "csrf_rejected");

    // Nothing refused was kept, not even half-way.
    assert_eq!(blobs_on_disk(&t).len(), 1);
    assert!(staging_is_empty(&t));
    t.stop().await;
}

/// Streams `total` bytes of text with chunked transfer encoding (no length up front) and
/// returns the status and body of the answer.
async fn chunked_upload(t: &TestServer, token: &str, total: usize) -> (u16, String) {
    let host = t.url.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/widget/attachments?name=big.txt HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = "a".repeat(1024);
    for _ in 0..total / 1024 {
        // The server may answer and stop reading before the end.
        if s.write_all(format!("400\r\n{chunk}\r\n").as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

async fn hostile_names_are_made_safe_and_downloads_are_attachments(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let token = visitor_token(&t, &ten.site_key).await;
    let long = format!("{}.pdf", "n".repeat(5000));
    let polyglot = [PNG, b"<html><script>alert(1)</script>"].concat();
    let cases: Vec<(&str, &[u8], String)> = vec![
        (
            "../../etc/passwd",
            b"root:x:0:0:root:/root:/bin/bash\n",
            "passwd.txt".into(),
        ),
        ("..\\x", PNG, "x.png".into()),
        (
            "..\\..\\Windows\\system.ini",
            b"[drivers]\n",
            "system.ini.txt".into(),
        ),
        (
            "a\0b\r\nContent-Type: text-html.pdf",
            PDF,
            "ab Content-Type_ text-html.pdf".into(),
        ),
        ("evil\u{202e}gnp.exe", PNG, "evilgnp.exe.png".into()),
        (&long, PDF, format!("{}.pdf", "n".repeat(96))),
        // Text called HTML is saved as text; a PNG called HTML as a PNG.
        (
            "index.html",
            b"just words, no markup\n",
            "index.html.txt".into(),
        ),
        ("polyglot.html", &polyglot, "polyglot.html.png".into()),
    ];
    for (name, bytes, want) in cases {
        let file = visitor_upload(&t, &token, name, "text/html", bytes)
            .await
            .ok();
        assert_eq!(file["name"], want.as_str(), "{name:?}");
        let got = download(&t, file["url"].as_str().unwrap(), None, Some(&token)).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, bytes);
        let ct = got.header("content-type");
        assert!(!ct.contains("html") && !ct.contains("svg"), "{ct}");
        let disposition = got.header("content-disposition");
        if ct.starts_with("image/") {
            assert!(disposition.starts_with("inline; "), "{disposition}");
        } else {
            assert!(disposition.starts_with("attachment; "), "{disposition}");
        }
        assert!(
            disposition.contains(&format!("filename=\"{want}\"")),
            "{disposition}"
        );
        assert_eq!(got.header("x-content-type-options"), "nosniff");
        assert_eq!(
            got.header("content-security-policy"),
            "default-src 'none'; sandbox"
        );
    }
    // Text is served as text/plain in UTF-8, never sniffed.
    let file = visitor_upload(&t, &token, "notes.txt", "text/html", "Grüße".as_bytes())
        .await
        .ok();
    let got = download(&t, file["url"].as_str().unwrap(), None, Some(&token)).await;
    assert_eq!(got.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        got.header("content-disposition"),
        "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    );
    // On disk, every file is named by its 32-digit id, whatever it was called.
    for f in blobs_on_disk(&t) {
        assert!(
            f.len() == 32 && f.bytes().all(|b| b.is_ascii_hexdigit()),
            "{f}"
        );
    }
    t.stop().await;
}

async fn downloads_reach_only_the_people_who_may_see_them(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let admin = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let colleague = Browser::login(&t.url, &a.agent_email, PASSWORD).await;
    let stranger = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let (token, mut v, conv) = chatting(&t, &a.site_key).await;
    let (other_token, _ov, _) = chatting(&t, &a.site_key).await;
    let (foreign_token, _fv, foreign_conv) = chatting(&t, &b.site_key).await;

    let photo = visitor_upload(&t, &token, "p.png", "image/png", PNG)
        .await
        .ok();
    let url = photo["url"].as_str().unwrap().to_owned();
    // Unsent: the uploader and the organization's agents, nobody else.
    assert_eq!(download(&t, &url, None, Some(&token)).await.status, 200);
    assert_eq!(download(&t, &url, Some(&colleague), None).await.status, 200);
    say_with_files(
        &mut v,
        "c1",
        Some(&conv),
        "",
        &[photo["id"].as_str().unwrap()],
        false,
    )
    .await
    .unwrap();
    assert_eq!(download(&t, &url, None, Some(&token)).await.status, 200);
    assert_eq!(download(&t, &url, Some(&colleague), None).await.status, 200);
    download(&t, &url, None, Some(&other_token))
        .await
        .refused(404, "not_found");
    download(&t, &url, None, Some(&foreign_token))
        .await
        .refused(404, "not_found");
    download(&t, &url, Some(&stranger), None)
        .await
        .refused(404, "not_found");
    download(&t, &url, None, None)
        .await
        .refused(401, "unauthenticated");
    download(&t, &url, None, Some("v1.forged"))
        .await
        .refused(401, "invalid_visitor_token");
    // The name in the path does not matter; the id does, and only a well-formed one.
    let id = photo["id"].as_str().unwrap();
    assert_eq!(
        download(
            &t,
            &format!("/files/{id}/anything.html"),
            None,
            Some(&token)
        )
        .await
        .status,
        200
    );
    let mut guessed = id.to_owned();
    guessed.replace_range(..1, if id.starts_with('0') { "1" } else { "0" });
    download(&t, &format!("/files/{guessed}/p.png"), None, Some(&token))
        .await
        .refused(404, "not_found");
    for bad in [
        "/files/..%2F..%2Fetc%2Fpasswd/x",
        "/files/ABCDEF/x",
        "/files/../../etc/passwd",
    ] {
        assert_eq!(
            download(&t, bad, Some(&admin), Some(&token)).await.status,
            404,
            "{bad}"
        );
    }

    // A note's file stays with the agents: the visitor can neither see nor fetch it.
    let secret = agent_upload(&admin, &conv, "internal.pdf", PDF).await.ok();
    let mut agent = Client::agent(&t, &admin).await;
    let note = say_with_files(
        &mut agent,
        "n1",
        Some(&conv),
        "for us",
        &[secret["id"].as_str().unwrap()],
        true,
    )
    .await
    .unwrap();
    assert_eq!(note.attachments.len(), 1);
    let url = secret["url"].as_str().unwrap();
    download(&t, url, None, Some(&token))
        .await
        .refused(404, "not_found");
    assert_eq!(download(&t, url, Some(&colleague), None).await.status, 200);
    let history = v.sync(&conv, 0).await;
    assert!(
        history
            .iter()
            .all(|m| m.attachments.iter().all(|f| f.url != url))
    );
    assert!(
        !v.seen
            .iter()
            .any(|f| format!("{f:?}").contains("internal.pdf"))
    );

    // An agent's unsent upload is not the visitor's either; nor can agents upload elsewhere.
    let draft = agent_upload(&admin, &conv, "draft.pdf", PDF).await.ok();
    download(&t, draft["url"].as_str().unwrap(), None, Some(&token))
        .await
        .refused(404, "not_found");
    agent_upload(&stranger, &conv, "x.pdf", PDF)
        .await
        .refused(404, "not_found");
    agent_upload(&admin, &foreign_conv, "x.pdf", PDF)
        .await
        .refused(404, "not_found");
    agent_upload(&admin, "not-an-id", "x.pdf", PDF)
        .await
        .refused(404, "not_found");
    t.stop().await;
}

async fn sends_carry_only_the_senders_own_unsent_files(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let mut agent = Client::agent(&t, &admin).await;
    let (token, mut v, conv) = chatting(&t, &ten.site_key).await;
    let (other_token, mut other, other_conv) = chatting(&t, &ten.site_key).await;

    let mine = visitor_upload(&t, &token, "a.png", "image/png", PNG)
        .await
        .ok();
    let mine = mine["id"].as_str().unwrap().to_owned();
    let theirs = visitor_upload(&t, &other_token, "b.png", "image/png", PNG)
        .await
        .ok();
    let theirs = theirs["id"].as_str().unwrap().to_owned();

    // Someone else's file, an agent sending a visitor's, an unknown or malformed id: refused,
    // and nothing is stored.
    assert_eq!(
        say_with_files(&mut v, "c1", Some(&conv), "x", &[&theirs], false).await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        say_with_files(&mut agent, "a1", Some(&conv), "x", &[&mine], false).await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        say_with_files(
            &mut v,
            "c2",
            Some(&conv),
            "x",
            &["0".repeat(32).as_str()],
            false
        )
        .await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        say_with_files(&mut v, "c3", Some(&conv), "x", &["../x"], false).await,
        Err(ErrorCode::NotFound)
    );
    // No text and no file is still empty.
    assert_eq!(
        say_with_files(&mut v, "c4", Some(&conv), " ", &[], false).await,
        Err(ErrorCode::MessageEmpty)
    );
    // At most ten files a message.
    let eleven: Vec<String> = (0..11).map(|i| format!("{i:032x}")).collect();
    let refs: Vec<&str> = eleven.iter().map(String::as_str).collect();
    assert_eq!(
        say_with_files(&mut v, "c5", Some(&conv), "x", &refs, false).await,
        Err(ErrorCode::LimitReached)
    );
    let before = v.sync(&conv, 0).await.len();

    // The visitor's own file goes, once; a retry with the same client id is the same message.
    let m = say_with_files(&mut v, "c6", Some(&conv), "mine", &[&mine], false)
        .await
        .unwrap();
    let again = say_with_files(&mut v, "c6", Some(&conv), "mine", &[&mine], false)
        .await
        .unwrap();
    assert_eq!((again.id.clone(), again.seq), (m.id.clone(), m.seq));
    assert_eq!(again.attachments, m.attachments);
    assert_eq!(
        say_with_files(&mut v, "c7", Some(&conv), "again", &[&mine], false).await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(v.sync(&conv, 0).await.len(), before + 1);
    // Not into another conversation, by its visitor either.
    assert_eq!(
        say_with_files(&mut other, "o1", Some(&conv), "x", &[&theirs], false).await,
        Err(ErrorCode::NotFound)
    );
    say_with_files(&mut other, "o2", Some(&other_conv), "", &[&theirs], false)
        .await
        .unwrap();
    t.stop().await;
}
