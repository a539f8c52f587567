//! The bus carries events between the nodes of an installation. Every node publishes what it
//! stored, and every node's [`crate::hub::Hub`] delivers what it hears to its own sockets.
//!
//! Today there is one implementation, in-process (`tokio::sync::broadcast`), for a single node.
//! A Redis implementation slots in behind the same trait for clusters. Events carry ids and the
//! changed rows, never secrets.

use frontdesk_core::protocol::{AgentStatus, Conversation, Message, Side};
use frontdesk_core::{AgentId, ContactId, ConversationId, OrganizationId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Event {
    /// A message was stored. Agents of `org` get it; the visitor gets it unless it is a note.
    Message {
        org: OrganizationId,
        contact: ContactId,
        message: Message,
        conversation: Conversation,
    },
    /// A conversation's summary changed (status, assignee, receipts, contact details).
    Conversation {
        org: OrganizationId,
        contact: ContactId,
        conversation: Conversation,
    },
    Typing {
        org: OrganizationId,
        contact: ContactId,
        conversation_id: ConversationId,
        side: Side,
        name: Option<String>,
        typing: bool,
    },
    AgentStatus {
        org: OrganizationId,
        agent: AgentId,
        status: AgentStatus,
    },
}

pub trait Bus: Send + Sync + 'static {
    /// Sends an event to every node, this one included. Never blocks.
    fn publish(&self, event: Event);
    /// A new receiver of every event published from now on.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
}

/// The single-node bus.
pub struct InProcessBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl InProcessBus {
    pub fn new() -> Self {
        // The hub drains it in a tight loop; 16k events of slack absorbs bursts. Events are
        // boxed: the channel allocates every slot up front, and an inline event is ~700 bytes.
        let (tx, _) = broadcast::channel(16_384);
        Self { tx }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for InProcessBus {
    fn publish(&self, event: Event) {
        // No receiver only means the node is shutting down.
        let _ = self.tx.send(Arc::new(event));
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
