//! Configuration: one struct, layered from defaults, then an optional TOML file, then
//! `FRONTDESK_*` environment variables, then command-line flags (later layers win).
//! `docs/configuration.md` lists every field; a test checks that it does.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database and uploaded files (`files/`) live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty for SQLite in `data_dir`.
    pub database_url: String,
    /// `redis://…` to spread events between nodes through Redis; empty for one node.
    pub redis_url: String,
    /// The URL people reach this server at (used in snippets and emails). Empty: taken from
    /// each request's Host header.
    pub public_url: String,
    /// `text` or `json`.
    pub log_format: String,
    /// `tracing` filter, such as `info` or `frontdesk=debug,info`.
    pub log_level: String,
    /// Seconds between WebSocket pings.
    pub heartbeat_secs: u64,
    /// How long a visitor token stays valid, in days. Each visit renews it.
    pub visitor_token_days: u64,
    /// How long an agent's login lasts, in days.
    pub session_days: u64,
    /// Messages a visitor may send per second (sustained); 0 turns the limit off.
    pub visitor_sends_per_second: u32,
    /// Messages a visitor may send in a burst.
    pub visitor_send_burst: u32,
    /// New WebSocket connections and widget sessions per IP per minute; 0 turns it off.
    pub connections_per_minute_per_ip: u32,
    /// Connections an IP may open in a burst.
    pub connection_burst_per_ip: u32,
    /// Seconds to wait for connections to finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Seconds after an agent's last connection drops before they are set away and their
    /// chats are returned to their teams (as each team's settings say).
    pub agent_away_grace_secs: u64,
    /// Milliseconds between routing passes (overflow timers, queue positions); changes also
    /// trigger a pass at once.
    pub routing_tick_ms: u64,
    /// Where replies to offline messages are sent: `smtp://host:port` (plain, for a local
    /// relay), `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://…:465`. Empty:
    /// no email is sent (replies wait in the outbox until this is set).
    pub smtp_url: String,
    /// The From address of those emails, e.g. `Acme Support <support@acme.example>`.
    pub email_from: String,
    /// Behind a reverse proxy: take the visitor's address from the last `X-Forwarded-For`
    /// entry (the one the proxy added) for rate limits and IP bans. Off: the connection's
    /// address. Turn it on only when every request comes through the proxy.
    pub trust_forwarded_for: bool,
    /// Path to an offline MaxMind-format database (GeoLite2/GeoIP2 City or Country) for a
    /// visitor's rough location. Empty: no location is shown.
    pub geoip_db: String,
    /// The largest file a visitor or an agent may upload, in bytes.
    pub max_upload_bytes: u64,
    /// A benchmarking aid: serve `/relay`, which passes text frames between the sockets of a
    /// room through the bus and the hub (`ws/relay.rs`). Never on in production.
    #[serde(deserialize_with = "flag")]
    pub bench_relay: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            data_dir: PathBuf::from("./frontdesk-data"),
            database_url: String::new(),
            redis_url: String::new(),
            public_url: String::new(),
            log_format: "text".into(),
            log_level: "info".into(),
            heartbeat_secs: 25,
            visitor_token_days: 365,
            session_days: 30,
            visitor_sends_per_second: 10,
            visitor_send_burst: 20,
            connections_per_minute_per_ip: 120,
            connection_burst_per_ip: 60,
            shutdown_grace_secs: 10,
            agent_away_grace_secs: 60,
            routing_tick_ms: 1000,
            smtp_url: String::new(),
            email_from: "Frontdesk <frontdesk@localhost>".into(),
            trust_forwarded_for: false,
            geoip_db: String::new(),
            max_upload_bytes: frontdesk_core::files::DEFAULT_MAX_UPLOAD_BYTES,
            bench_relay: false,
        }
    }
}

/// A switch written `true`/`false` or, as in `FRONTDESK_BENCH_RELAY=1`, `1`/`0`.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("true, false, 1 or 0")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(serde::de::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<bool, E> {
            u64::try_from(v)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
                .and_then(|v| self.visit_u64(v))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
            }
        }
    }
    d.deserialize_any(Flag)
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Self, Box<figment::Error>> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            f = f.merge(Toml::file_exact(path));
        }
        f = f
            .merge(Env::prefixed("FRONTDESK_"))
            .merge(Serialized::defaults(flags));
        // `DATABASE_URL` is the convention most tools use; `FRONTDESK_DATABASE_URL` wins over it.
        let mut cfg: Config = f.extract().map_err(Box::new)?;
        if cfg.database_url.is_empty()
            && let Ok(url) = std::env::var("DATABASE_URL")
        {
            cfg.database_url = url;
        }
        if cfg.redis_url.is_empty()
            && let Ok(url) = std::env::var("REDIS_URL")
        {
            cfg.redis_url = url;
        }
        Ok(cfg)
    }

    /// The database to open: the configured URL, or the SQLite file in `data_dir`.
    pub fn database(&self) -> String {
        if self.database_url.is_empty() {
            self.data_dir
                .join("frontdesk.db")
                .to_string_lossy()
                .into_owned()
        } else {
            self.database_url.clone()
        }
    }

    pub fn uses_sqlite(&self) -> bool {
        !self.database().starts_with("postgres")
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure type, not ours
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_which_beats_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "f.toml",
                "listen = \"127.0.0.1:1000\"\nheartbeat_secs = 7\nlog_level = \"warn\"",
            )?;
            jail.set_env("FRONTDESK_HEARTBEAT_SECS", "9");
            let c = Config::load(Some(Path::new("f.toml")), &Overrides::default()).unwrap();
            assert_eq!(c.listen.port(), 1000);
            assert_eq!(c.heartbeat_secs, 9);
            assert_eq!(c.log_level, "warn");
            let flags = Overrides {
                listen: Some("127.0.0.1:2000".parse().unwrap()),
                ..Default::default()
            };
            let c = Config::load(Some(Path::new("f.toml")), &flags).unwrap();
            assert_eq!(c.listen.port(), 2000);
            Ok(())
        });
    }

    #[test]
    fn the_bench_relay_is_off_unless_turned_on() {
        figment::Jail::expect_with(|jail| {
            assert!(
                !Config::load(None, &Overrides::default())
                    .unwrap()
                    .bench_relay
            );
            jail.set_env("FRONTDESK_BENCH_RELAY", "1");
            assert!(
                Config::load(None, &Overrides::default())
                    .unwrap()
                    .bench_relay
            );
            jail.set_env("FRONTDESK_BENCH_RELAY", "true");
            assert!(
                Config::load(None, &Overrides::default())
                    .unwrap()
                    .bench_relay
            );
            jail.set_env("FRONTDESK_BENCH_RELAY", "0");
            assert!(
                !Config::load(None, &Overrides::default())
                    .unwrap()
                    .bench_relay
            );
            jail.set_env("FRONTDESK_BENCH_RELAY", "2");
            assert!(Config::load(None, &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("f.toml", "lisen = \"127.0.0.1:1000\"")?;
            assert!(Config::load(Some(Path::new("f.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn docs_list_every_setting() {
        let doc = include_str!("../../../docs/configuration.md");
        let json = serde_json::to_value(Config::default()).unwrap();
        for key in json.as_object().unwrap().keys() {
            assert!(
                doc.contains(&format!("`{key}`")),
                "docs/configuration.md does not describe `{key}`"
            );
            let env = format!("FRONTDESK_{}", key.to_uppercase());
            assert!(
                doc.contains(&env),
                "docs/configuration.md does not name {env}"
            );
        }
    }
}
