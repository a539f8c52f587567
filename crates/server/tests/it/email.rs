//! Replies to offline messages go to the visitor by email, over real SMTP: a local aiosmtpd
//! (Debian's python3-aiosmtpd, which scripts/test.sh installs) writes what it receives into a
//! Maildir, and the test reads the files back.

use crate::common::*;
use frontdesk_core::protocol::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";
const REPLY: &str = "Thanks Vera — your order ships today.";

/// A real SMTP server on a free local port that stores every mail in a Maildir. Killed on drop.
struct Smtp {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Smtp {
    async fn start() -> Smtp {
        let probe = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(
            matches!(probe, Ok(s) if s.success()),
            "{PYTHON} cannot import aiosmtpd, which the email tests need as their SMTP server: \
             run scripts/test.sh (it installs python3-aiosmtpd), or `apt-get install python3-aiosmtpd`"
        );
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let port = free_port();
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let mut smtp = Smtp {
            child,
            port,
            maildir,
            _dir: dir,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return smtp;
            }
            if let Some(status) = smtp.child.try_wait().unwrap() {
                panic!("aiosmtpd exited before accepting connections: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {port} in time"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every delivered mail file (Maildir's `new/` and `cur/`; `tmp/` holds partial writes).
    fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.maildir.join(sub)) {
                out.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        }
        out.sort();
        out
    }

    /// Waits until at least `n` mails arrived; returns the files.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<PathBuf> {
        let deadline = Instant::now() + within;
        loop {
            let files = self.files();
            if files.len() >= n {
                return files;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mail(s) within {within:?}, got {}",
                files.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A received mail: unfolded headers, and the body decoded from its transfer encoding.
struct Mail {
    headers: Vec<(String, String)>,
    body: String,
}

impl Mail {
    fn read(path: &Path) -> Mail {
        let raw = std::fs::read_to_string(path).unwrap().replace("\r\n", "\n");
        let (head, body) = raw
            .split_once("\n\n")
            .expect("headers end with a blank line");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a continuation follows a header");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (k, v) = line.split_once(':').expect("a header line");
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        for h in &mut headers {
            h.1 = decode_encoded_words(&h.1);
        }
        let mut mail = Mail {
            headers,
            body: String::new(),
        };
        let encoding = mail
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        mail.body = match encoding.as_str() {
            "quoted-printable" => decode_quoted_printable(body),
            "base64" => {
                use base64::Engine;
                let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .unwrap(),
                )
                .unwrap()
            }
            _ => body.to_owned(),
        };
        mail
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) in a header value.
fn decode_encoded_words(v: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = v;
    while let Some(start) = rest.find("=?") {
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            break;
        };
        let (charset, enc, text) = (parts[0], parts[1], &parts[2][..end]);
        assert!(charset.eq_ignore_ascii_case("utf-8"), "charset {charset}");
        let bytes = if enc.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap()
        } else {
            decode_quoted_printable(&text.replace('_', " "))
                .trim_end_matches('\n')
                .as_bytes()
                .to_vec()
        };
        out.push_str(&rest[..start]);
        out.push_str(&String::from_utf8(bytes).unwrap());
        let consumed = start + 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = &rest[consumed..];
        // Whitespace between two adjacent encoded words is not part of the text.
        if rest.trim_start().starts_with("=?") {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    out
}

fn decode_quoted_printable(s: &str) -> String {
    let mut out = Vec::new();
    for line in s.split('\n') {
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' && i + 2 < b.len() {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                if let Ok(v) = u8::from_str_radix(hex, 16) {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        if !soft {
            out.push(b'\n');
        }
    }
    String::from_utf8(out).unwrap()
}

/// The chat link in a mail body: `http://…/chat/{key}#token={token}`.
fn chat_link(body: &str) -> &str {
    body.split_whitespace()
        .find(|w| w.contains("/chat/"))
        .unwrap_or_else(|| panic!("no chat link in the mail:\n{body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_an_offline_message_is_emailed_once_with_a_link_back_to_the_chat() {
    let smtp = Smtp::start().await;
    let t = TestServer::start_with(Backend::Sqlite, |c| {
        c.smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
        c.email_from = "Acme Support <support@acme.test>".into();
    })
    .await;
    let org = tenant(&t, "e").await;
    let (status, session) = Browser::new(&t.url)
        .post(
            "/api/v1/widget/session",
            json!({"site_key": org.site_key, "token": null}),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();
    // Nobody is connected: the visitor's first message is an offline message.
    let mut v = Client::visitor(&t, &token).await;
    v.send(json!({"type":"set_contact","name":"Vera","email":"vera@example.test"}))
        .await;
    let first = v
        .say("v1", None, "Has my order shipped?")
        .await
        .expect("the visitor's message is stored");
    let conv = first.conversation_id.0.clone();

    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let (status, page) = admin.get("/api/v1/conversations?tab=unassigned").await;
    assert_eq!(status, 200, "{page}");
    let listed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conv.as_str())
        .unwrap_or_else(|| panic!("the offline message is in the New tab: {page}"));
    assert_eq!(listed["offline"], true, "{listed}");
    assert_eq!(listed["contact_email"], "vera@example.test", "{listed}");
    assert_eq!(listed["contact_name"], "Vera", "{listed}");

    // The reply carries a file: the email names it (the file opens in the chat).
    let upload = admin
        .http
        .post(format!(
            "{}/api/v1/conversations/{conv}/attachments?name=label.pdf",
            t.url
        ))
        .header("Origin", t.url.clone())
        .header("Cookie", admin.cookie.clone().unwrap())
        .body(b"%PDF-1.4\n%%EOF\n".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 200);
    let file: serde_json::Value = upload.json().await.unwrap();
    let (status, reply) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"r1","text":REPLY,"attachments":[file["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["kind"], "agent");

    let files = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let mail = Mail::read(&files[0]);
    let to = mail.header("To").expect("a To header");
    assert!(to.contains("vera@example.test"), "To: {to}");
    let from = mail.header("From").expect("a From header");
    assert!(from.contains("<support@acme.test>"), "From: {from}");
    assert!(
        from.contains("Admin e"),
        "the agent's name is in From: {from}"
    );
    assert_eq!(mail.header("Subject"), Some("Re: your message to Shop"));
    assert!(
        mail.body.contains(REPLY),
        "the reply is in the body:\n{}",
        mail.body
    );
    assert!(
        mail.body
            .contains("Files (open the conversation to see them): label.pdf"),
        "the reply's file is named:\n{}",
        mail.body
    );
    let link = chat_link(&mail.body);
    // Without a public_url the link uses the address the server actually bound.
    assert!(link.starts_with(&format!("{}/chat/", t.url)), "{link}");
    assert!(
        mail.header("Message-ID").is_some_and(|id| id.contains('@')),
        "a Message-ID"
    );
    let marker = format!("/chat/{}#token=", org.site_key);
    assert!(link.contains(&marker), "{link}");
    let link_token = link.split_once("#token=").unwrap().1;
    assert!(!link_token.is_empty());

    // The link's token is the visitor's own: same contact, same conversation.
    let mut anon = Browser::new(&t.url);
    let (status, s) = anon
        .post(
            "/api/v1/widget/session",
            json!({"site_key": org.site_key, "token": link_token}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["new_visitor"], false, "{s}");
    assert_eq!(s["contact_id"], session["contact_id"], "{s}");
    let mut back = Client::visitor(&t, link_token).await;
    let welcome = back
        .seen
        .iter()
        .find(|f| matches!(f, ServerFrame::Welcome { .. }))
        .cloned()
        .unwrap();
    match welcome {
        ServerFrame::Welcome {
            conversation: Some(c),
            ..
        } => assert_eq!(c.id.0, conv),
        other => panic!("welcome without the conversation: {other:?}"),
    }
    let history = back.sync(&conv, 0).await;
    assert!(history.iter().any(|m| m.text == REPLY));

    // The page the link opens.
    let page = reqwest::get(format!("{}/chat/{}", t.url, org.site_key))
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/widget/chat.js"), "{html}");
    assert!(html.contains(&org.site_key), "{html}");

    // A retried reply (same client id) and a note send nothing more.
    let (status, again) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"r1","text":REPLY}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], reply["id"], "the retry is the same message");
    let (status, note) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"n1","text":"Refund approved by finance","note":true}),
        )
        .await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(note["kind"], "note");
    // The outbox is polled every 0.5 s: three polls' worth of quiet.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(smtp.files().len(), 1, "{:?}", smtp.files());
    for f in smtp.files() {
        let raw = std::fs::read_to_string(f).unwrap();
        assert!(!raw.contains("Refund approved"), "a note was emailed");
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_stored_and_kept_for_retry_when_smtp_is_down() {
    // A port nothing listens on.
    let port = free_port();
    let t = TestServer::start_with(Backend::Sqlite, |c| {
        c.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.email_from = "Acme Support <support@acme.test>".into();
    })
    .await;
    let org = tenant(&t, "d").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    v.send(json!({"type":"set_contact","name":null,"email":"dan@example.test"}))
        .await;
    let conv = v
        .say("v1", None, "Anyone there?")
        .await
        .unwrap()
        .conversation_id
        .0;
    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let (status, reply) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"r1","text":"We are here now."}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["text"], "We are here now.");
    // The sender tries, fails, and keeps the mail for a later attempt.
    let deadline = Instant::now() + WAIT;
    let job = loop {
        let later = frontdesk_store::now_ms() + 86_400_000;
        let jobs = t.store().due_emails(later, 10).await.unwrap();
        assert_eq!(jobs.len(), 1, "one mail in the outbox");
        if jobs[0].attempts >= 1 {
            break jobs.into_iter().next().unwrap();
        }
        assert!(Instant::now() < deadline, "no send was attempted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(job.to_address, "dan@example.test");
    assert_eq!(job.text, "We are here now.");
    // Not due again at once: the retry waits.
    let now_due = t
        .store()
        .due_emails(frontdesk_store::now_ms(), 10)
        .await
        .unwrap();
    assert!(now_due.is_empty(), "the failed mail waits before retrying");
    // The server is fine: the reply is in the history and the API answers.
    let (status, page) = admin
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["text"] == "We are here now.")
            .count(),
        1
    );
    let (status, _) = admin.get("/api/v1/inbox/counts").await;
    assert_eq!(status, 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_are_emailed_on_request_without_notes() {
    let smtp = Smtp::start().await;
    let port = smtp.port;
    let t = TestServer::start_with(Backend::Sqlite, |c| {
        c.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.email_from = "Acme Support <support@acme.test>".into();
    })
    .await;
    let org = tenant(&t, "t").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = v
        .say("v1", None, "Which tent fits four?")
        .await
        .unwrap()
        .conversation_id
        .0;
    // Without an address, the visitor is told to give one first.
    v.send(json!({"type": "transcript", "conversation_id": conv}))
        .await;
    let f = v.expect(|f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(
        matches!(
            f,
            ServerFrame::Error {
                code: frontdesk_core::ErrorCode::InvalidEmail,
                ..
            }
        ),
        "{f:?}"
    );
    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let (status, e) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/transcript"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("invalid_email")),
        "{e}"
    );
    // With one, an agent's reply, and a note the visitor must never see.
    v.send(json!({"type":"set_contact","name":"Tara","email":"tara@example.test"}))
        .await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (_, c) = admin.get(&format!("/api/v1/conversations/{conv}")).await;
        if c["contact"]["email"] == "tara@example.test" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the address was never saved"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (cid, text, note) in [
        ("r1", "The Dome 4 does.", false),
        ("n1", "VIP, upsell", true),
    ] {
        let (status, _) = admin
            .post(
                &format!("/api/v1/conversations/{conv}/messages"),
                json!({"client_id": cid, "text": text, "note": note}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, sent) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/transcript"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, sent["to"].as_str()),
        (200, Some("tara@example.test"))
    );
    v.send(json!({"type": "transcript", "conversation_id": conv}))
        .await;
    // Nobody was online, so the reply itself was emailed too (an offline message).
    let files = smtp.wait_for(3, Duration::from_secs(10)).await;
    let transcripts: Vec<Mail> = files
        .iter()
        .map(|f| Mail::read(f))
        .filter(|m| m.header("Subject") == Some("Your conversation with Shop"))
        .collect();
    assert_eq!(
        transcripts.len(),
        2,
        "one from the agent, one the visitor asked for"
    );
    for mail in transcripts {
        assert!(mail.header("To").unwrap().contains("tara@example.test"));
        assert!(
            mail.body.contains("You: Which tent fits four?"),
            "{}",
            mail.body
        );
        assert!(
            mail.body.contains("Admin t: The Dome 4 does."),
            "{}",
            mail.body
        );
        assert!(
            !mail.body.contains("upsell"),
            "a note leaked into a transcript"
        );
        assert!(chat_link(&mail.body).contains(&format!("/chat/{}#token=", org.site_key)));
    }
    // Another organization cannot ask for this conversation's transcript.
    let other = tenant(&t, "u").await;
    let stranger = Browser::login(&t.url, &other.admin_email, PASSWORD).await;
    let (status, _) = stranger
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/conversations/{conv}/transcript"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 404);
    t.stop().await;
}
