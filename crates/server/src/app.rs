//! Application state, the router, and the server's life: start, serve, shut down gracefully.

use crate::bus::{Bus, Event, InProcessBus, RedisBus};
use crate::config::Config;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::tokens::{VisitorTokens, random_token};
use crate::{http, ws};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use frontdesk_core::protocol::MAX_BODY_BYTES;
use frontdesk_store::{Store, WriteOutcome};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Everything a handler needs, passed as axum state. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub bus: Arc<dyn Bus>,
    pub hub: Arc<Hub>,
    pub config: Config,
    pub tokens: VisitorTokens,
    pub limits: Limits,
    pub router: Arc<crate::routing::Router>,
    /// Turns true when the server starts shutting down; sockets close themselves.
    pub shutdown: watch::Receiver<bool>,
    /// The site key the `/demo` page embeds, when started with `frontdesk demo`.
    pub demo_site_key: Option<String>,
    /// Where people reach this server, for links in emails: `public_url`, or else the address
    /// actually bound.
    pub base_url: String,
    /// Rough location of visitors, when `geoip_db` is set.
    pub geoip: crate::geoip::Geoip,
    /// Uploaded files: where their bytes live.
    pub files: crate::files::Files,
    /// Visitors' presence changes, written in batches (`visitors.rs`).
    pub presence: crate::visitors::Presence,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Extra behaviour for a run of the server.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub demo_site_key: Option<String>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/setup", get(http::setup::status).post(http::setup::create))
        .route("/widget/session", post(http::widget::session))
        .route("/widget/config", get(http::widget::site_config))
        .route("/widget/trigger", post(http::triggers::event))
        .route("/auth/login", post(http::auth::login))
        .route("/auth/logout", post(http::auth::logout))
        .route("/me", get(http::auth::me))
        .route("/me/status", put(http::auth::set_status))
        .route(
            "/agents",
            get(http::api::agents).post(http::api::create_agent),
        )
        .route("/inbox/counts", get(http::api::counts))
        .route("/conversations", get(http::api::conversations))
        .route("/conversations/{id}", get(http::api::conversation))
        .route(
            "/conversations/{id}/messages",
            get(http::api::messages).post(http::api::send),
        )
        .route("/conversations/{id}/take", post(http::api::take))
        .route("/conversations/{id}/assign", post(http::api::assign))
        .route("/conversations/{id}/resolve", post(http::api::resolve))
        .route("/conversations/{id}/reopen", post(http::api::reopen))
        .route("/conversations/{id}/transfer", post(http::teams::transfer))
        .route("/conversations/{id}/invite", post(http::teams::invite))
        .route("/conversations/{id}/priority", post(http::teams::priority))
        .route("/conversations/{id}/ban", post(http::bans::ban))
        .route(
            "/conversations/{id}/transcript",
            post(http::transcript::transcript),
        )
        .route("/bans", get(http::bans::bans))
        .route("/bans/{id}", axum::routing::delete(http::bans::lift))
        .route(
            "/websites",
            get(http::api::websites).post(http::api::create_website),
        )
        .route(
            "/websites/{id}/domains",
            get(http::embed::domains).put(http::embed::set_domains),
        )
        .route(
            "/websites/{id}/routing",
            get(http::teams::site_routing).put(http::teams::set_site_routing),
        )
        .route(
            "/websites/{id}/triggers",
            get(http::triggers::get).put(http::triggers::put),
        )
        .route(
            "/teams",
            get(http::teams::teams).post(http::teams::create_team),
        )
        .route(
            "/teams/{id}",
            put(http::teams::update_team).delete(http::teams::delete_team),
        )
        .route("/agents/{id}", put(http::teams::agent_settings))
        .route(
            "/websites/{id}/look",
            get(http::look::get_look).put(http::look::set_look),
        )
        .route(
            "/agents/{id}/photo",
            put(http::look::set_photo).delete(http::look::delete_photo),
        )
        .route("/monitor", get(http::teams::monitor))
        .route("/mentions", get(http::api::mentions))
        .route(
            "/canned-responses",
            get(http::canned::list).post(http::canned::create),
        )
        .route(
            "/canned-responses/{id}",
            put(http::canned::update).delete(http::canned::delete),
        )
        .route("/visitors", get(http::visitors::live))
        .route("/visitors/{id}/chat", post(http::visitors::start_chat))
        .route("/contacts", get(http::contacts::list))
        .route(
            "/contacts/{id}",
            get(http::contacts::get).patch(http::contacts::update),
        )
        .route("/contacts/{id}/merge", post(http::contacts::merge))
        .route("/contacts/{id}/visit", get(http::visitors::details))
        .route("/search", get(http::search::search))
        .route("/tags", get(http::tags::list).post(http::tags::create))
        .route(
            "/tags/{id}",
            put(http::tags::update).delete(http::tags::delete),
        )
        .route("/conversations/{id}/tags", post(http::tags::add))
        .route("/conversations/{id}/tags/{tag}", delete(http::tags::remove))
        .route(
            "/conversations/{id}/attachments",
            post(http::files::agent_upload),
        )
        .route("/widget/attachments", post(http::files::visitor_upload))
        .route("/widget/prechat", post(http::forms::submit_prechat))
        .route("/widget/rating", post(http::forms::rate))
        .route(
            "/websites/{id}/forms",
            get(http::forms::get_forms).put(http::forms::put_forms),
        )
        .route("/conversations/{id}/feedback", get(http::forms::feedback))
        .route("/widget/identify", post(http::identity::identify))
        .route("/widget/attributes", post(http::identity::set_attributes))
        .route("/widget/events", post(http::identity::track))
        .route(
            "/websites/{id}/identity",
            get(http::identity::get_identity).put(http::identity::set_identity),
        )
        .route(
            "/websites/{id}/identity/rotate",
            post(http::identity::rotate_identity),
        )
        .fallback(http::api_not_found);
    let app = Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(http::health::healthz))
        .route("/readyz", get(http::health::readyz))
        .route("/ws/visitor", get(ws::visitor::upgrade))
        .route("/ws/agent", get(ws::agent::upgrade))
        .route("/", get(http::pages::root))
        .route("/login", get(http::pages::app))
        .route("/setup", get(http::pages::app))
        .route("/demo", get(http::pages::demo))
        .route("/chat/{site_key}", get(http::pages::hosted_chat))
        .route("/files/{id}/{name}", get(http::files::download))
        .route("/agent-photos/{id}", get(http::look::photo));
    // The web apps' files, gzipped for clients that take it: the loader crosses the network on
    // every customer page view (5 KB instead of 12 KB).
    let files = Router::new()
        .route("/widget.js", get(http::pages::loader))
        .route("/widget/{file}", get(http::pages::widget_file))
        .route("/app", get(http::pages::app))
        .route("/app/{*rest}", get(http::pages::app_file))
        .layer(tower_http::compression::CompressionLayer::new());
    let app = app.merge(files);
    let app = if state.config.bench_relay {
        tracing::warn!("bench_relay is on: /relay passes frames between anyone's sockets");
        app.route("/relay", get(ws::relay::upgrade))
    } else {
        app
    };
    app.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown_tx: watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Opens the database, migrates it, binds the listener and starts serving.
    pub async fn start(config: Config, options: Options) -> anyhow::Result<Server> {
        if config.uses_sqlite() {
            std::fs::create_dir_all(&config.data_dir)?;
        }
        let store = Store::open(&config.database()).await?;
        store.migrate().await?;
        let secret = store
            .setting_or_insert("visitor_token_secret", &random_token())
            .await?;
        let bus: Arc<dyn Bus> = if config.redis_url.is_empty() {
            Arc::new(InProcessBus::new())
        } else {
            Arc::new(RedisBus::connect(&config.redis_url).await?)
        };
        let hub = Arc::new(Hub::default());
        let routing = Arc::new(crate::routing::Router::default());
        {
            let bus = bus.clone();
            let routing = routing.clone();
            store.on_commit(Arc::new(move |o: &WriteOutcome| {
                publish_outcome(bus.as_ref(), o);
                if o.routing {
                    routing.poke(&o.organization_id);
                }
            }));
        }
        // The hub hears every event on the bus, from this node and (later) from others.
        {
            let mut rx = bus.subscribe();
            let hub = hub.clone();
            tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(e) => hub.dispatch(&e),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            // Clients notice the gap by sequence number and resync.
                            tracing::warn!(missed = n, "hub fell behind the bus");
                        }
                        Err(_) => break,
                    }
                }
            });
        }
        let limits = Limits::new(&config);
        limits.spawn_janitor();
        let (shutdown_tx, shutdown) = watch::channel(false);
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = if config.public_url.is_empty() {
            if !config.smtp_url.is_empty() {
                tracing::warn!(
                    "smtp_url is set but public_url is not: links in emails will point at {addr}, which visitors may not reach"
                );
            }
            format!("http://{addr}")
        } else {
            config.public_url.trim_end_matches('/').to_owned()
        };
        let state = AppState(Arc::new(Inner {
            store,
            bus,
            hub,
            tokens: VisitorTokens::new(&secret),
            limits,
            router: routing,
            shutdown,
            demo_site_key: options.demo_site_key,
            config: config.clone(),
            base_url,
            geoip: crate::geoip::Geoip::open(&config.geoip_db)?,
            files: crate::files::Files::local(&config.data_dir)?,
            presence: crate::visitors::Presence::default(),
        }));
        // Chat frames are small and latency matters: no Nagle delay.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        crate::routing::spawn(state.clone());
        crate::email::spawn(state.clone());
        crate::visitors::spawn(state.clone());
        state.files.spawn_sweeper(state.clone());
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let mut stop = state.shutdown.clone();
        let serve = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
        });
        Ok(Server {
            addr,
            state,
            shutdown_tx,
            serve,
        })
    }

    /// Stops taking connections, lets sockets close and in-flight requests finish (up to the
    /// grace period), then flushes the writer and closes the database. Every write that was
    /// acknowledged had already committed.
    pub async fn stop(self) {
        let _ = self.shutdown_tx.send(true);
        let grace = Duration::from_secs(self.state.config.shutdown_grace_secs);
        if tokio::time::timeout(grace, self.serve).await.is_err() {
            tracing::warn!("connections still open after the grace period; closing anyway");
        }
        self.state.store.close().await;
    }

    /// The server's base URL, such as `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Turns a committed write into bus events.
fn publish_outcome(bus: &dyn Bus, o: &WriteOutcome) {
    let org = o.organization_id.clone();
    let contact = o.conversation.contact_id.clone();
    if o.messages.is_empty() {
        bus.publish(Event::Conversation {
            org: org.clone(),
            contact,
            conversation: o.conversation.clone(),
        });
    } else {
        for m in &o.messages {
            bus.publish(Event::Message {
                org: org.clone(),
                contact: contact.clone(),
                message: Box::new(m.clone()),
                conversation: o.conversation.clone(),
            });
        }
    }
    for n in &o.notices {
        bus.publish(Event::Notice {
            org: org.clone(),
            agent: n.agent.clone(),
            kind: n.kind,
            conversation_id: o.conversation.id.clone(),
            by_name: n.by_name.clone(),
            text: n.text.clone(),
        });
    }
}
