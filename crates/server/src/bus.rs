//! The bus carries events between the nodes of an installation. Every node publishes what it
//! stored, and every node's [`crate::hub::Hub`] delivers what it hears to its own sockets.
//!
//! Two implementations: [`InProcessBus`] (`tokio::sync::broadcast`) for a single node, and
//! [`RedisBus`] (Redis PUBLISH/SUBSCRIBE on one channel) for several nodes. Events carry ids
//! and the changed rows, never secrets. With Redis, a node hears its own events back from
//! Redis rather than delivering them locally, so every event reaches the hub by one path and
//! in the order the node published it.

use frontdesk_core::protocol::{AgentStatus, Conversation, Message, Side};
use frontdesk_core::teams::NoticeKind;
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
        /// Boxed: with its files a message is large, and every other event would pay for it.
        message: Box<Message>,
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
        /// A visitor's unsent text (agents only).
        preview: Option<String>,
    },
    AgentStatus {
        org: OrganizationId,
        agent: AgentId,
        status: AgentStatus,
    },
    /// A visitor was banned: every node cuts off their sockets.
    KickVisitor { contact: ContactId },
    /// Something about a conversation is for one agent (routed, transferred, invited).
    Notice {
        org: OrganizationId,
        agent: AgentId,
        kind: NoticeKind,
        conversation_id: ConversationId,
        by_name: Option<String>,
        text: Option<String>,
    },
    /// A visitor moved to another page. Agents of `org` get it.
    VisitorPage {
        org: OrganizationId,
        contact: ContactId,
        page: frontdesk_core::visitors::PageView,
    },
    /// An agent started a chat with a visitor: their widget opens.
    OpenWidget {
        contact: ContactId,
        conversation_id: ConversationId,
    },
    /// The organization's tag list changed; agents of `org` get the whole list.
    Tags {
        org: OrganizationId,
        tags: Vec<frontdesk_core::tags::Tag>,
    },
    /// A contact's profile changed, or `merged_from` was merged into it. Agents of `org` get it.
    Contact {
        org: OrganizationId,
        contact: frontdesk_core::contacts::ContactProfile,
        merged_from: Option<ContactId>,
    },
    /// A visitor answered the pre-chat form or rated a conversation. Agents of `org` get it.
    Feedback {
        org: OrganizationId,
        conversation_id: ConversationId,
        feedback: frontdesk_core::prechat::ConversationFeedback,
    },
    /// A text frame of the benchmark relay (`bench_relay`), for the room's other sockets.
    /// `from` is the sending socket's random tag, unique across nodes.
    Relay {
        room: Arc<str>,
        from: u64,
        text: Arc<str>,
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

/// The channel every node publishes to and subscribes on.
pub const REDIS_CHANNEL: &str = "frontdesk:events";

/// The bus between nodes: every node publishes to one Redis channel and hears all of it.
pub struct RedisBus {
    out: tokio::sync::mpsc::Sender<String>,
    tx: broadcast::Sender<Arc<Event>>,
}

impl RedisBus {
    /// Connects, subscribes, and starts the publishing task. Fails if Redis does not answer.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        use futures_util::StreamExt;
        let client = redis::Client::open(url)?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(REDIS_CHANNEL).await?;
        let (tx, _) = broadcast::channel(16_384);
        let incoming = tx.clone();
        tokio::spawn(async move {
            let mut stream = pubsub.into_on_message();
            while let Some(msg) = stream.next().await {
                match msg
                    .get_payload::<String>()
                    .map(|p| serde_json::from_str::<Event>(&p))
                {
                    Ok(Ok(e)) => {
                        let _ = incoming.send(Arc::new(e));
                    }
                    _ => tracing::warn!("ignored a malformed event from Redis"),
                }
            }
            // Sockets notice missed events by sequence number and resync; presence may lag.
            tracing::error!(
                "the Redis subscription ended; events from other nodes stop until restart"
            );
        });
        let mut conn = client.get_connection_manager().await?;
        let (out, mut rx) = tokio::sync::mpsc::channel::<String>(65_536);
        tokio::spawn(async move {
            while let Some(payload) = rx.recv().await {
                let r: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(REDIS_CHANNEL)
                    .arg(payload)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "could not publish an event to Redis");
                }
            }
        });
        Ok(Self { out, tx })
    }
}

impl Bus for RedisBus {
    fn publish(&self, event: Event) {
        match serde_json::to_string(&event) {
            Ok(p) => {
                if self.out.try_send(p).is_err() {
                    tracing::warn!(
                        "Redis publish queue is full; an event was dropped (clients resync by seq)"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "could not encode an event"),
        }
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
