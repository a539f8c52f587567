//! The `frontdesk` command line: serve, migrate, admin create, demo.

use crate::app::{Options, Server};
use crate::config::{Config, Overrides};
use crate::http::auth::hash_password;
use crate::http::setup::{prepare, snippet};
use crate::tokens::site_key;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use frontdesk_core::protocol::Role;
use frontdesk_core::{Domain, Email, Name, Password};
use frontdesk_store::{NewAgent, Store, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "frontdesk",
    version,
    about = "Live chat for websites: widget, dashboard and API in one binary"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// A TOML configuration file.
    #[arg(long, global = true, env = "FRONTDESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true)]
    pub listen: Option<SocketAddr>,
    /// Directory for the SQLite database and uploads [default: ./frontdesk-data].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL instead of SQLite.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// The URL people reach this server at.
    #[arg(long, global = true)]
    pub public_url: Option<String>,
    /// `redis://…` to run several nodes with Redis between them.
    #[arg(long, global = true)]
    pub redis_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs the server (the default).
    Serve,
    /// Applies database migrations and exits.
    Migrate,
    /// Manages admins.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Seeds a demo organization, website and two agents, then serves with a demo page at /demo.
    Demo,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Creates an admin. On a new installation this is the first-run setup: it also creates the
    /// organization and its first website, and prints the snippet.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "Admin")]
        name: String,
        #[arg(long, default_value = "My organization")]
        organization: String,
        #[arg(long, default_value = "My website")]
        website: String,
        #[arg(long, default_value = "localhost")]
        domain: String,
    },
}

pub fn load_config(g: &Global) -> anyhow::Result<Config> {
    let flags = Overrides {
        listen: g.listen,
        data_dir: g.data_dir.clone(),
        database_url: g.database_url.clone(),
        public_url: g.public_url.clone(),
        redis_url: g.redis_url.clone(),
    };
    Config::load(g.config.as_deref(), &flags).map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

pub fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if cfg.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    if cfg.uses_sqlite() {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("creating {}", cfg.data_dir.display()))?;
    }
    let store = Store::open(&cfg.database())
        .await
        .context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

fn base(cfg: &Config, addr: SocketAddr) -> String {
    if cfg.public_url.is_empty() {
        format!("http://{addr}")
    } else {
        cfg.public_url.trim_end_matches('/').to_owned()
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let cfg = load_config(&cli.global)?;
    init_tracing(&cfg);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cfg, Options::default()).await,
        Command::Migrate => {
            let store = open_store(&cfg).await?;
            store.close().await;
            println!("Database is up to date: {}", cfg.database());
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    password,
                    name,
                    organization,
                    website,
                    domain,
                },
        } => {
            let store = open_store(&cfg).await?;
            let email = Email::parse(&email)?;
            let password = Password::parse(&password)?;
            let name = Name::parse(&name)?;
            let hash = hash_password(&password).await?;
            let r = admin_create(
                &store,
                &cfg,
                email,
                name,
                hash,
                &organization,
                &website,
                &domain,
            )
            .await;
            store.close().await;
            r
        }
        Command::Demo => {
            let store = open_store(&cfg).await?;
            let key = seed_demo(&store).await?;
            store.close().await;
            serve(
                cfg,
                Options {
                    demo_site_key: Some(key),
                },
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn admin_create(
    store: &Store,
    cfg: &Config,
    email: Email,
    name: Name,
    hash: String,
    organization: &str,
    website: &str,
    domain: &str,
) -> anyhow::Result<()> {
    if store.agent_count().await? == 0 {
        let (agent, site) = store
            .create_organization(
                &Name::parse(organization)?,
                (&email, &name, &hash),
                (&Name::parse(website)?, &Domain::parse(domain)?, &site_key()),
                Some("setup_done"),
            )
            .await?;
        store.delete_setting("setup_token_hash").await?;
        println!(
            "Created {} ({}) as admin of {}.",
            agent.name, agent.email, agent.organization_name
        );
        println!(
            "Paste this into {}:\n  {}",
            site.name,
            snippet(&base(cfg, cfg.listen), &site.site_key)
        );
        return Ok(());
    }
    // An existing installation: add an admin to the first organization.
    let Some(org) = store.first_organization().await? else {
        bail!("no organization found");
    };
    match store
        .create_agent(&NewAgent {
            organization_id: org,
            email,
            name,
            password_hash: hash,
            role: Role::Admin,
        })
        .await
    {
        Ok(a) => {
            println!(
                "Created {} ({}) as admin of {}.",
                a.name, a.email, a.organization_name
            );
            Ok(())
        }
        Err(StoreError::Conflict) => bail!("an agent with this email already exists"),
        Err(e) => Err(e.into()),
    }
}

pub const DEMO_SITE_KEY: &str = "demo-site";
pub const DEMO_AGENTS: [(&str, &str, &str, Role); 2] = [
    (
        "Alice Admin",
        "alice@demo.frontdesk.test",
        "demo-password",
        Role::Admin,
    ),
    (
        "Bob Agent",
        "bob@demo.frontdesk.test",
        "demo-password",
        Role::Agent,
    ),
];

/// Creates the demo organization once; later runs reuse it.
async fn seed_demo(store: &Store) -> anyhow::Result<String> {
    if store.website_by_key(DEMO_SITE_KEY).await?.is_some() {
        return Ok(DEMO_SITE_KEY.into());
    }
    let (alice_name, alice_email, alice_pw, _) = DEMO_AGENTS[0];
    let hash = hash_password(&Password::parse(alice_pw)?).await?;
    let (alice, _) = store
        .create_organization(
            &Name::parse("Acme Outdoor (demo)")?,
            (
                &Email::parse(alice_email)?,
                &Name::parse(alice_name)?,
                &hash,
            ),
            (
                &Name::parse("Acme Outdoor shop")?,
                &Domain::parse("127.0.0.1:8080")?,
                DEMO_SITE_KEY,
            ),
            None,
        )
        .await?;
    let (bob_name, bob_email, bob_pw, bob_role) = DEMO_AGENTS[1];
    store
        .create_agent(&NewAgent {
            organization_id: alice.organization_id.clone(),
            email: Email::parse(bob_email)?,
            name: Name::parse(bob_name)?,
            password_hash: hash_password(&Password::parse(bob_pw)?).await?,
            role: bob_role,
        })
        .await?;
    Ok(DEMO_SITE_KEY.into())
}

async fn serve(cfg: Config, options: Options) -> anyhow::Result<()> {
    let demo = options.demo_site_key.is_some();
    let server = Server::start(cfg.clone(), options).await?;
    let url = base(&cfg, server.addr);
    tracing::info!(address = %server.addr, database = %if cfg.uses_sqlite() { cfg.database() } else { "postgres".into() }, "frontdesk is ready");
    if !crate::assets::present() {
        tracing::warn!("this binary was built without web/dist; run `npm run build` in web/ first");
    }
    if let Some(token) = prepare(&server.state.store).await? {
        println!(
            "\n  No admin yet. Open this one-time link to set up Frontdesk:\n  {url}/setup?token={token}\n"
        );
    }
    if demo {
        println!("\n  Frontdesk demo is running.");
        println!("  Visitor (demo website):  {url}/demo");
        println!("  Agent dashboard:         {url}/app");
        for (name, email, pw, _) in DEMO_AGENTS {
            println!("    {name:<12} {email}  password: {pw}");
        }
        println!("  Stop with Ctrl-C.\n");
    }
    shutdown_signal().await;
    tracing::info!("shutting down: closing sockets and flushing writes");
    server.stop().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
