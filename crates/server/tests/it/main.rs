//! The server crate's integration tests, built as one binary: one link instead of one per file,
//! which keeps CI's target directory and build time small. Each file is a module of its own.

#[macro_use]
mod common;

mod bans;
mod canned;
mod cluster;
mod contacts;
mod crash;
mod disk_full;
mod email;
mod embed;
mod files;
mod forms;
mod hostile;
mod identity;
mod look;
mod mentions;
mod pg_restart;
mod protocol;
mod relay;
mod roles;
mod routing;
mod search;
mod soak;
mod tags;
mod triggers;
mod visitors;
