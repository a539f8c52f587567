//! A real server on a random port with a fresh database, and real clients: HTTP with cookies
//! and WebSockets. Tests wait on conditions with deadlines, never on sleeps.
#![allow(dead_code)]

pub mod process;

use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::*;
use frontdesk_server::Config;
use frontdesk_server::app::{Options, Server};
use frontdesk_store::Store;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub server: Option<Server>,
    pub url: String,
    pub config: Config,
    _dir: tempfile::TempDir,
}

pub async fn database_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => String::new(),
        Backend::Postgres => {
            let base = std::env::var("FRONTDESK_TEST_POSTGRES_URL")
                .expect("FRONTDESK_TEST_POSTGRES_URL must name a PostgreSQL database (scripts/test-postgres.sh sets it)");
            fresh_postgres_db(&base).await
        }
    }
}

/// Creates a brand-new database on the server `base` points at; returns its URL.
pub async fn fresh_postgres_db(base: &str) -> String {
    let name = format!("fdtest_{}", uuid::Uuid::now_v7().simple());
    let admin = Store::open_postgres(base).await.unwrap();
    admin
        .execute_admin(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await;
    let (head, _) = base.rsplit_once('/').expect("URL with a database name");
    format!("{head}/{name}")
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        // The server's warnings go to the test's captured output, shown when it fails.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            database_url: database_url(backend).await,
            shutdown_grace_secs: 3,
            ..Config::default()
        };
        tweak(&mut config);
        let server = Server::start(config.clone(), Options::default())
            .await
            .unwrap();
        let url = server.url();
        TestServer {
            server: Some(server),
            url,
            config,
            _dir: dir,
        }
    }

    /// Another node on the same database (and bus settings), with its own port and data dir.
    pub async fn another_node(&self) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            ..self.config.clone()
        };
        let server = Server::start(config.clone(), Options::default())
            .await
            .unwrap();
        let url = server.url();
        TestServer {
            server: Some(server),
            url,
            config,
            _dir: dir,
        }
    }

    pub fn store(&self) -> &Store {
        &self.server.as_ref().unwrap().state.store
    }

    /// Stops gracefully and starts again on the same database and port.
    pub async fn restart(&mut self) {
        let s = self.server.take().unwrap();
        let addr = s.addr;
        s.stop().await;
        let mut cfg = self.config.clone();
        cfg.listen = addr;
        self.server = Some(Server::start(cfg, Options::default()).await.unwrap());
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{}", self.url.replacen("http", "ws", 1), path)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }
}

/// An HTTP client that keeps cookies and sends this server's Origin, as a browser would.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            cookie: None,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Origin", self.base.clone());
        if let Some(c) = &self.cookie {
            r = r.header("Cookie", c.clone());
        }
        r
    }

    /// Any method, with the cookie and `Origin`; the cookie is not updated from the reply.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.req(method, path);
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .req(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        self.keep_cookie(&r);
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::DELETE, path, None).await
    }

    fn keep_cookie(&mut self, r: &reqwest::Response) {
        if let Some(v) = r.headers().get("set-cookie").and_then(|v| v.to_str().ok())
            && let Some(kv) = v.split(';').next()
        {
            self.cookie = Some(kv.to_owned());
        }
    }

    pub async fn login(base: &str, email: &str, password: &str) -> Browser {
        let mut b = Browser::new(base);
        let (status, body) = b
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        b
    }
}

pub struct Tenant {
    pub site_key: String,
    pub admin_email: String,
    pub agent_email: String,
    pub org_id: String,
}

pub const PASSWORD: &str = "correct horse battery";

/// An organization with an admin, an agent and a website, made through the store.
pub async fn tenant(t: &TestServer, tag: &str) -> Tenant {
    use frontdesk_core::*;
    let hash = frontdesk_server::http::auth::hash_password(&Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    let key = format!("site-{tag}");
    let (admin, _) = t
        .store()
        .create_organization(
            &Name::parse(&format!("Org {tag}")).unwrap(),
            (
                &Email::parse(&format!("admin@{tag}.test")).unwrap(),
                &Name::parse(&format!("Admin {tag}")).unwrap(),
                &hash,
            ),
            (
                &Name::parse("Shop").unwrap(),
                &Domain::parse(&format!("{tag}.test")).unwrap(),
                &key,
            ),
            None,
        )
        .await
        .unwrap();
    t.store()
        .create_agent(&frontdesk_store::NewAgent {
            organization_id: admin.organization_id.clone(),
            email: Email::parse(&format!("agent@{tag}.test")).unwrap(),
            name: Name::parse(&format!("Agent {tag}")).unwrap(),
            password_hash: hash,
            role: Role::Agent,
        })
        .await
        .unwrap();
    Tenant {
        site_key: key,
        admin_email: format!("admin@{tag}.test"),
        agent_email: format!("agent@{tag}.test"),
        org_id: admin.organization_id.0,
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A socket client that speaks the protocol and keeps every frame it has read.
pub struct Client {
    pub ws: Ws,
    pub seen: Vec<ServerFrame>,
}

impl Client {
    pub async fn connect(
        url: &str,
        origin: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Client, u16> {
        let mut req = url.into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("Origin", o.parse().unwrap());
        }
        if let Some(c) = cookie {
            req.headers_mut().insert("Cookie", c.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(Client {
                ws,
                seen: Vec::new(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
            Err(e) => panic!("connect: {e}"),
        }
    }

    pub async fn visitor(t: &TestServer, token: &str) -> Client {
        let mut c = Client::connect(&t.ws_url("/ws/visitor"), None, None)
            .await
            .unwrap();
        c.send(json!({"type": "hello", "v": 1, "token": token}))
            .await;
        c.expect(|f| matches!(f, ServerFrame::Welcome { .. })).await;
        c
    }

    pub async fn agent(t: &TestServer, b: &Browser) -> Client {
        let mut c = Client::connect(&t.ws_url("/ws/agent"), Some(&t.url), b.cookie.as_deref())
            .await
            .unwrap();
        c.send(json!({"type": "hello", "v": 1, "token": null}))
            .await;
        c.expect(|f| matches!(f, ServerFrame::Welcome { .. })).await;
        c
    }

    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(WsMessage::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, s: &str) {
        self.ws
            .send(WsMessage::Text(s.to_owned().into()))
            .await
            .unwrap();
    }

    /// The next frame, or `None` when the socket closed. Panics after the deadline.
    pub async fn next(&mut self) -> Option<ServerFrame> {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no frame within the deadline");
            match m {
                Some(Ok(WsMessage::Text(t))) => {
                    let f: ServerFrame = serde_json::from_str(&t).unwrap();
                    if std::env::var("FD_TRACE").is_ok() {
                        eprintln!("<< {t}");
                    }
                    self.seen.push(f.clone());
                    return Some(f);
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Reads until a frame matches; returns it.
    pub async fn expect(&mut self, pred: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
        loop {
            let f = self.next().await.expect("socket closed while waiting");
            if pred(&f) {
                return f;
            }
        }
    }

    /// Reads until the socket closes; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("socket stayed open");
            match m {
                Some(Ok(WsMessage::Close(f))) => return f.map(|f| u16::from(f.code)),
                None | Some(Err(_)) => return None,
                _ => continue,
            }
        }
    }

    /// Sends a message and waits for its ack (or error with the same client id).
    pub async fn say(
        &mut self,
        client_id: &str,
        conversation_id: Option<&str>,
        text: &str,
    ) -> Result<Message, ErrorCode> {
        self.send(json!({"type": "send", "client_id": client_id, "conversation_id": conversation_id, "text": text}))
            .await;
        let cid = client_id.to_owned();
        match self
            .expect(|f| match f {
                ServerFrame::Ack { client_id, .. } => client_id == &cid,
                ServerFrame::Error {
                    client_id: Some(c), ..
                } => c == &cid,
                _ => false,
            })
            .await
        {
            ServerFrame::Ack { message, .. } => Ok(message),
            ServerFrame::Error { code, .. } => Err(code),
            _ => unreachable!(),
        }
    }

    /// Like `say`, but `None` when the socket dies first (the server crashed).
    pub async fn try_say(
        &mut self,
        client_id: &str,
        conversation_id: Option<&str>,
        text: &str,
    ) -> Option<Result<Message, ErrorCode>> {
        let frame = json!({"type": "send", "client_id": client_id, "conversation_id": conversation_id, "text": text});
        if self
            .ws
            .send(WsMessage::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            return None;
        }
        loop {
            match self.next().await? {
                ServerFrame::Ack {
                    client_id: c,
                    message,
                } if c == client_id => return Some(Ok(message)),
                ServerFrame::Error {
                    client_id: Some(c),
                    code,
                    ..
                } if c == client_id => return Some(Err(code)),
                _ => {}
            }
        }
    }

    /// Sends `sync` and collects messages until `synced`.
    pub async fn sync(&mut self, conversation_id: &str, after_seq: i64) -> Vec<Message> {
        self.send(
            json!({"type": "sync", "conversation_id": conversation_id, "after_seq": after_seq}),
        )
        .await;
        // As a client does: live frames may interleave with the history, so keep each seq once.
        let mut got = std::collections::BTreeMap::new();
        loop {
            match self.next().await.expect("closed during sync") {
                ServerFrame::Message { message }
                    if message.conversation_id.0 == conversation_id =>
                {
                    got.entry(message.seq).or_insert(message);
                }
                ServerFrame::Synced { .. } => return got.into_values().collect(),
                _ => {}
            }
        }
    }
}

/// Starts a visitor session on a site; returns the token.
pub async fn visitor_token(t: &TestServer, site_key: &str) -> String {
    let mut b = Browser::new(&t.url);
    let (status, body) = b
        .post("/api/v1/widget/session", json!({"site_key": site_key, "token": null, "context": {"url": "https://shop.test/pricing"}}))
        .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// Runs each listed test once per backend: `mod sqlite` in the main suite, `mod postgres` in
/// the PostgreSQL suite.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            )*
        }
    };
}
