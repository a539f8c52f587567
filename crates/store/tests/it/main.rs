//! The store crate's integration tests, built as one binary: one link instead of one per file,
//! which keeps CI's target directory and build time small. Each file is a module of its own.

#[macro_use]
mod common;

mod attachments;
mod conformance;
mod contacts;
mod embed;
mod forms;
mod looks;
mod search;
mod tags;
mod triggers;
