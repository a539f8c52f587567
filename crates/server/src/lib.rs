//! Frontdesk's server: the axum app, the WebSocket gateway, the bus and hub that fan events out,
//! the embedded web apps, and the commands of the `frontdesk` binary.
//!
//! Adapters stay thin: they parse input into core types, call the store, publish what changed
//! on the bus, and reply. The domain rules live in `frontdesk-core`; SQL lives in
//! `frontdesk-store`.

pub mod app;
pub mod assets;
pub mod bus;
pub mod cli;
pub mod config;
pub mod email;
pub mod error;
pub mod files;
pub mod geoip;
pub mod http;
pub mod hub;
pub mod limits;
pub mod routing;
pub mod tokens;
pub mod visitors;
pub mod ws;

pub use app::{AppState, Server};
pub use config::Config;
