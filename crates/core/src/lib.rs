//! Frontdesk's pure domain core.
//!
//! Owns the words of the product (organization, website, contact, conversation, message, agent),
//! typed ids, inputs that are validated once at the edge, the conversation state machine and the
//! wire protocol types shared by the server, the widget and the dashboard.
//!
//! Invariant: nothing here does IO, spawns tasks or reads a clock. Time is passed in as
//! milliseconds since the Unix epoch (`Millis`). `clippy.toml` in this crate enforces it.

pub mod bans;
pub mod canned;
pub mod contacts;
pub mod conversation;
pub mod embed;
pub mod files;
pub mod hours;
pub mod identity;
pub mod ids;
pub mod input;
pub mod mentions;
pub mod prechat;
pub mod protocol;
pub mod queue;
pub mod routing;
pub mod search;
pub mod tags;
pub mod teams;
pub mod triggers;
pub mod visitors;
pub mod widget;

/// Milliseconds since the Unix epoch, UTC. Passed in by callers; the core never reads a clock.
pub type Millis = i64;

pub use conversation::{
    Action, ConversationState, ConversationStatus, Transition, TransitionError,
};
pub use ids::*;
pub use input::*;
