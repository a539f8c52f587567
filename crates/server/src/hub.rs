//! The hub knows which sockets this node holds: visitors by contact, agents by organization.
//! It turns bus events into frames, serializing each frame once per audience, and hands them to
//! each socket's bounded queue. A socket whose queue is full is cut off (it resumes from its
//! last sequence number when it reconnects), so one slow reader never slows the others or grows
//! the server's memory. The bound is in bytes as well as frames: an agent's socket receives a
//! whole organization's traffic, and one commit can carry hundreds of small frames at once (a
//! burst, not a slow reader), while a few large ones are enough to show a reader that stopped.

use crate::bus::Event;
use frontdesk_core::protocol::{AgentStatus, ServerFrame, Side, VisitorConversation};
use frontdesk_core::{AgentId, ContactId, OrganizationId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc};

/// Most frames waiting for one socket. Serialized JSON, shared between sockets.
pub const OUTBOX_FRAMES: usize = 4096;
/// Most bytes of frames waiting for one socket.
pub const OUTBOX_BYTES: usize = 1 << 20;

/// One registered socket: the hub's end of its queue.
#[derive(Clone)]
pub struct Conn {
    pub id: u64,
    tx: mpsc::Sender<Arc<str>>,
    shared: Arc<Shared>,
}

struct Shared {
    /// Fired when the hub cuts the socket off for not reading.
    kick: Notify,
    /// Bytes of the frames in the queue.
    queued: AtomicUsize,
}

impl Conn {
    /// Resolves once the hub has cut this socket off.
    pub fn kicked(&self) -> tokio::sync::futures::Notified<'_> {
        self.shared.kick.notified()
    }

    pub fn kick(&self) {
        self.shared.kick.notify_one();
    }
}

/// The socket's end of its queue.
pub struct Outbox {
    rx: mpsc::Receiver<Arc<str>>,
    shared: Arc<Shared>,
}

impl Outbox {
    pub async fn recv(&mut self) -> Option<Arc<str>> {
        let f = self.rx.recv().await?;
        self.shared.queued.fetch_sub(f.len(), Ordering::Relaxed);
        Some(f)
    }

    #[cfg(test)]
    fn try_recv(&mut self) -> Result<Arc<str>, mpsc::error::TryRecvError> {
        let f = self.rx.try_recv()?;
        self.shared.queued.fetch_sub(f.len(), Ordering::Relaxed);
        Ok(f)
    }
}

struct AgentConn {
    conn: Conn,
    agent: AgentId,
    status: AgentStatus,
}

#[derive(Default)]
struct Inner {
    visitors: HashMap<ContactId, (OrganizationId, Vec<Conn>)>,
    org_visitors: HashMap<OrganizationId, Vec<ContactId>>,
    agents: HashMap<OrganizationId, Vec<AgentConn>>,
    /// The benchmark relay's sockets by room, each with its sender tag (`bench_relay`).
    rooms: HashMap<Arc<str>, Vec<(u64, Conn)>>,
}

#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    pub visitor_count: AtomicU64,
    pub agent_count: AtomicU64,
}

fn frame(f: &ServerFrame) -> Arc<str> {
    serde_json::to_string(f).unwrap_or_default().into()
}

impl Hub {
    pub fn new_conn(&self) -> (Conn, Outbox) {
        let (tx, rx) = mpsc::channel(OUTBOX_FRAMES);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(Shared {
            kick: Notify::new(),
            queued: AtomicUsize::new(0),
        });
        (
            Conn {
                id,
                tx,
                shared: shared.clone(),
            },
            Outbox { rx, shared },
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_visitor(&self, org: &OrganizationId, contact: &ContactId, conn: Conn) {
        let mut g = self.lock();
        let entry = g
            .visitors
            .entry(contact.clone())
            .or_insert_with(|| (org.clone(), Vec::new()));
        let first = entry.1.is_empty();
        entry.1.push(conn);
        if first {
            g.org_visitors
                .entry(org.clone())
                .or_default()
                .push(contact.clone());
        }
        self.visitor_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Cuts off every socket this node holds for a visitor (they were banned).
    pub fn kick_visitor(&self, contact: &ContactId) {
        let g = self.lock();
        if let Some((_, conns)) = g.visitors.get(contact) {
            for c in conns {
                c.kick();
            }
        }
    }

    pub fn remove_visitor(&self, contact: &ContactId, conn_id: u64) {
        let mut g = self.lock();
        let Some((org, conns)) = g.visitors.get_mut(contact) else {
            return;
        };
        let before = conns.len();
        conns.retain(|c| c.id != conn_id);
        if conns.len() < before {
            self.visitor_count.fetch_sub(1, Ordering::Relaxed);
        }
        if conns.is_empty() {
            let org = org.clone();
            g.visitors.remove(contact);
            if let Some(list) = g.org_visitors.get_mut(&org) {
                list.retain(|c| c != contact);
                if list.is_empty() {
                    g.org_visitors.remove(&org);
                }
            }
        }
    }

    /// Registers a benchmark relay socket in its room; `tag` marks the frames it sends.
    pub fn add_relay(&self, room: &Arc<str>, tag: u64, conn: Conn) {
        self.lock()
            .rooms
            .entry(room.clone())
            .or_default()
            .push((tag, conn));
    }

    pub fn remove_relay(&self, room: &str, conn_id: u64) {
        let mut g = self.lock();
        if let Some(list) = g.rooms.get_mut(room) {
            list.retain(|(_, c)| c.id != conn_id);
            if list.is_empty() {
                g.rooms.remove(room);
            }
        }
    }

    /// Registers an agent's socket, telling the organization's visitors if "agents online" changed.
    pub fn add_agent(
        &self,
        org: &OrganizationId,
        agent: &AgentId,
        status: AgentStatus,
        conn: Conn,
    ) {
        let before = self.agents_online(org);
        {
            let mut g = self.lock();
            g.agents.entry(org.clone()).or_default().push(AgentConn {
                conn,
                agent: agent.clone(),
                status,
            });
        }
        self.agent_count.fetch_add(1, Ordering::Relaxed);
        self.presence_changed(org, before);
    }

    pub fn remove_agent(&self, org: &OrganizationId, conn_id: u64) {
        let before = self.agents_online(org);
        {
            let mut g = self.lock();
            if let Some(list) = g.agents.get_mut(org) {
                let n = list.len();
                list.retain(|a| a.conn.id != conn_id);
                if list.len() < n {
                    self.agent_count.fetch_sub(1, Ordering::Relaxed);
                }
                if list.is_empty() {
                    g.agents.remove(org);
                }
            }
        }
        self.presence_changed(org, before);
    }

    /// Whether an agent of the organization is connected here and online.
    pub fn agents_online(&self, org: &OrganizationId) -> bool {
        self.lock()
            .agents
            .get(org)
            .is_some_and(|l| l.iter().any(|a| a.status == AgentStatus::Online))
    }

    fn presence_changed(&self, org: &OrganizationId, before: bool) {
        let now = self.agents_online(org);
        if now != before {
            let f = frame(&ServerFrame::Presence { agents_online: now });
            let g = self.lock();
            if let Some(contacts) = g.org_visitors.get(org) {
                for c in contacts {
                    if let Some((_, conns)) = g.visitors.get(c) {
                        for conn in conns {
                            send(conn, &f);
                        }
                    }
                }
            }
        }
    }

    /// Delivers one bus event to the sockets of this node.
    pub fn dispatch(&self, event: &Event) {
        match event {
            Event::Message {
                org,
                contact,
                message,
                conversation,
            } => {
                let to_agents = [
                    frame(&ServerFrame::Message {
                        message: message.as_ref().clone(),
                    }),
                    frame(&ServerFrame::Conversation {
                        conversation: conversation.clone(),
                    }),
                ];
                self.to_agents(org, &to_agents);
                if let Some(m) = message.for_visitor() {
                    let to_visitor = [
                        frame(&ServerFrame::Message { message: m }),
                        frame(&ServerFrame::VisitorConversation {
                            conversation: VisitorConversation::from(conversation),
                        }),
                    ];
                    self.to_visitor(contact, &to_visitor);
                }
            }
            Event::Conversation {
                org,
                contact,
                conversation,
            } => {
                self.to_agents(
                    org,
                    &[frame(&ServerFrame::Conversation {
                        conversation: conversation.clone(),
                    })],
                );
                self.to_visitor(
                    contact,
                    &[frame(&ServerFrame::VisitorConversation {
                        conversation: VisitorConversation::from(conversation),
                    })],
                );
            }
            Event::Typing {
                org,
                contact,
                conversation_id,
                side,
                name,
                typing,
                preview,
            } => {
                let f = [frame(&ServerFrame::Typing {
                    conversation_id: conversation_id.clone(),
                    side: *side,
                    name: name.clone(),
                    typing: *typing,
                    // Only a visitor's text, and only to agents.
                    preview: preview.clone().filter(|_| *side == Side::Visitor),
                })];
                match side {
                    Side::Visitor => self.to_agents(org, &f),
                    Side::Agent => self.to_visitor(contact, &f),
                }
            }
            Event::KickVisitor { contact } => self.kick_visitor(contact),
            Event::Notice {
                org,
                agent,
                kind,
                conversation_id,
                by_name,
                text,
            } => {
                self.to_agent(
                    org,
                    agent,
                    &[frame(&ServerFrame::Notice {
                        kind: *kind,
                        conversation_id: conversation_id.clone(),
                        by_name: by_name.clone(),
                        text: text.clone(),
                    })],
                );
            }
            Event::VisitorPage { org, contact, page } => {
                self.to_agents(
                    org,
                    &[frame(&ServerFrame::VisitorPage {
                        contact_id: contact.clone(),
                        page: page.clone(),
                    })],
                );
            }
            Event::OpenWidget {
                contact,
                conversation_id,
            } => {
                self.to_visitor(
                    contact,
                    &[frame(&ServerFrame::OpenWidget {
                        conversation_id: conversation_id.clone(),
                    })],
                );
            }
            Event::AgentStatus { org, agent, status } => {
                let before = self.agents_online(org);
                {
                    let mut g = self.lock();
                    if let Some(list) = g.agents.get_mut(org) {
                        for a in list.iter_mut().filter(|a| &a.agent == agent) {
                            a.status = *status;
                        }
                    }
                }
                self.to_agents(
                    org,
                    &[frame(&ServerFrame::AgentStatus {
                        agent_id: agent.clone(),
                        status: *status,
                    })],
                );
                self.presence_changed(org, before);
            }
            Event::Feedback {
                org,
                conversation_id,
                feedback,
            } => {
                self.to_agents(
                    org,
                    &[frame(&ServerFrame::Feedback {
                        conversation_id: conversation_id.clone(),
                        feedback: feedback.clone(),
                    })],
                );
            }
            Event::Relay { room, from, text } => {
                let g = self.lock();
                for (tag, conn) in g.rooms.get(room).into_iter().flatten() {
                    if tag != from {
                        send(conn, text);
                    }
                }
            }
            Event::Tags { org, tags } => {
                self.to_agents(org, &[frame(&ServerFrame::Tags { tags: tags.clone() })]);
            }
            Event::Contact {
                org,
                contact,
                merged_from,
            } => {
                self.to_agents(
                    org,
                    &[frame(&ServerFrame::Contact {
                        contact: contact.clone(),
                        merged_from: merged_from.clone(),
                    })],
                );
            }
        }
    }

    /// The visitors with a widget socket on this node.
    pub fn connected_visitors(&self) -> Vec<ContactId> {
        self.lock().visitors.keys().cloned().collect()
    }

    /// Whether a visitor has a widget socket on this node.
    pub fn visitor_connected(&self, contact: &ContactId) -> bool {
        self.lock().visitors.contains_key(contact)
    }

    /// Sends a frame to a visitor's sockets on this node.
    pub fn send_to_visitor(&self, contact: &ContactId, f: &ServerFrame) {
        self.to_visitor(contact, &[frame(f)]);
    }

    /// The agents with a socket on this node.
    pub fn connected_agents(&self) -> Vec<AgentId> {
        let g = self.lock();
        let mut v: Vec<AgentId> = g
            .agents
            .values()
            .flat_map(|l| l.iter().map(|a| a.agent.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// How many sockets this agent has on this node.
    pub fn agent_sockets(&self, org: &OrganizationId, agent: &AgentId) -> usize {
        self.lock()
            .agents
            .get(org)
            .map_or(0, |l| l.iter().filter(|a| &a.agent == agent).count())
    }

    fn to_agent(&self, org: &OrganizationId, agent: &AgentId, frames: &[Arc<str>]) {
        let g = self.lock();
        if let Some(list) = g.agents.get(org) {
            for a in list.iter().filter(|a| &a.agent == agent) {
                for f in frames {
                    send(&a.conn, f);
                }
            }
        }
    }

    fn to_agents(&self, org: &OrganizationId, frames: &[Arc<str>]) {
        let g = self.lock();
        if let Some(list) = g.agents.get(org) {
            for a in list {
                for f in frames {
                    send(&a.conn, f);
                }
            }
        }
    }

    fn to_visitor(&self, contact: &ContactId, frames: &[Arc<str>]) {
        let g = self.lock();
        if let Some((_, conns)) = g.visitors.get(contact) {
            for c in conns {
                for f in frames {
                    send(c, f);
                }
            }
        }
    }
}

fn send(conn: &Conn, f: &Arc<str>) {
    let queued = conn.shared.queued.fetch_add(f.len(), Ordering::Relaxed) + f.len();
    let full = queued > OUTBOX_BYTES
        || matches!(
            conn.tx.try_send(f.clone()),
            Err(mpsc::error::TrySendError::Full(_))
        );
    if full {
        // The socket stopped reading: cut it off rather than buffer without bound. (Its
        // queue is not used again; the count may stay high.)
        conn.kick();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_outbox_kicks_the_socket_and_spares_the_others() {
        let hub = Hub::default();
        let org = OrganizationId::new(1, 1);
        let (slow, _slow_rx) = hub.new_conn();
        let (fast, mut fast_rx) = hub.new_conn();
        hub.add_agent(&org, &AgentId::new(1, 2), AgentStatus::Online, slow.clone());
        hub.add_agent(&org, &AgentId::new(1, 3), AgentStatus::Online, fast);
        for _ in 0..OUTBOX_FRAMES + 1 {
            hub.dispatch(&Event::AgentStatus {
                org: org.clone(),
                agent: AgentId::new(1, 9),
                status: AgentStatus::Away,
            });
            while fast_rx.try_recv().is_ok() {}
        }
        // The slow socket was told to go; notify_one stores the permit.
        let kicked = tokio_test_block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(100), slow.kicked()).await
        });
        assert!(kicked.is_ok());
    }

    fn was_kicked(conn: &Conn) -> bool {
        tokio_test_block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(20), conn.kicked())
                .await
                .is_ok()
        })
    }

    #[test]
    fn a_burst_of_small_frames_is_not_a_slow_reader_but_too_many_bytes_are() {
        let hub = Hub::default();
        let (conn, mut rx) = hub.new_conn();
        // One commit of a full write batch: hundreds of small frames at once.
        let small: Arc<str> = "x".repeat(300).into();
        for _ in 0..1_000 {
            send(&conn, &small);
        }
        assert!(!was_kicked(&conn));
        let mut got = 0;
        while rx.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, 1_000);
        // Read frames free their bytes: the same again fits.
        for _ in 0..1_000 {
            send(&conn, &small);
        }
        assert!(!was_kicked(&conn));
        // Large frames that are not read pass the byte bound long before the frame bound.
        let large: Arc<str> = "x".repeat(16 * 1024).into();
        let fits = (OUTBOX_BYTES - 1_000 * 300) / large.len();
        for _ in 0..fits {
            send(&conn, &large);
        }
        assert!(!was_kicked(&conn));
        send(&conn, &large);
        assert!(was_kicked(&conn));
    }

    #[test]
    fn presence_follows_online_agents() {
        let hub = Hub::default();
        let org = OrganizationId::new(1, 1);
        let contact = ContactId::new(1, 4);
        let (v, mut v_rx) = hub.new_conn();
        hub.add_visitor(&org, &contact, v);
        assert!(!hub.agents_online(&org));
        let (a, _a_rx) = hub.new_conn();
        let agent = AgentId::new(1, 2);
        hub.add_agent(&org, &agent, AgentStatus::Online, a.clone());
        assert!(hub.agents_online(&org));
        assert!(v_rx.try_recv().unwrap().contains(r#""agents_online":true"#));
        hub.dispatch(&Event::AgentStatus {
            org: org.clone(),
            agent,
            status: AgentStatus::Away,
        });
        assert!(!hub.agents_online(&org));
        assert!(
            v_rx.try_recv()
                .unwrap()
                .contains(r#""agents_online":false"#)
        );
        hub.remove_agent(&org, a.id);
        hub.remove_visitor(&contact, 0);
        assert_eq!(hub.agent_count.load(Ordering::Relaxed), 0);
    }

    fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }
}
