//! The conversation state machine.
//!
//! A conversation is `open` (waiting, nobody assigned), `assigned` (an agent owns it) or
//! `resolved`. Every change goes through [`ConversationState::apply`], which is pure: storage
//! locks the row, reads the state, applies the action and writes the result in one transaction.
//! Changes that people should see in the history come back as a system message text.

use crate::ids::AgentId;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConversationStatus {
    Open,
    Assigned,
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Assigned => "assigned",
            Self::Resolved => "resolved",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "assigned" => Some(Self::Assigned),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// The part of a conversation that the state machine owns.
///
/// Invariant: `status == Assigned` implies `assignee.is_some()`, and `status == Open` implies
/// `assignee.is_none()`. A resolved conversation remembers who had it, so a reopen returns it to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationState {
    pub status: ConversationStatus,
    pub assignee: Option<AgentId>,
}

/// An agent as the state machine needs to see them: who, and the name shown in system messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRef {
    pub id: AgentId,
    pub name: String,
}

/// Something that happens to a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The visitor sent a message. Reopens a resolved conversation.
    VisitorMessage,
    /// An agent sent a reply. Replying to an unassigned conversation takes it.
    AgentMessage(AgentRef),
    /// An internal note. Changes nothing.
    Note,
    /// An agent takes an unassigned conversation for themselves. Fails if someone has it.
    Take(AgentRef),
    /// `by` assigns the conversation to `to` (a transfer when someone else has it).
    Assign {
        to: AgentRef,
        by: AgentRef,
    },
    /// `by` returns the conversation to the unassigned queue.
    Unassign {
        by: AgentRef,
    },
    Resolve {
        by: AgentRef,
    },
    Reopen {
        by: AgentRef,
    },
}

/// What applying an action does: the new state, and an optional system message for the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub state: ConversationState,
    pub system_message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TransitionError {
    #[error("the conversation is already assigned")]
    AlreadyAssigned,
    #[error("the conversation is already resolved")]
    AlreadyResolved,
    #[error("the conversation is not resolved")]
    NotResolved,
    #[error("the conversation is resolved; reopen it first")]
    Resolved,
}

impl ConversationState {
    pub fn new_open() -> Self {
        Self {
            status: ConversationStatus::Open,
            assignee: None,
        }
    }

    fn reopened(&self) -> Self {
        match &self.assignee {
            Some(a) => Self {
                status: ConversationStatus::Assigned,
                assignee: Some(a.clone()),
            },
            None => Self::new_open(),
        }
    }

    pub fn apply(&self, action: &Action) -> Result<Transition, TransitionError> {
        use ConversationStatus::*;
        let same = |system_message: Option<String>| Transition {
            state: self.clone(),
            system_message,
        };
        let to = |state: ConversationState, msg: String| Transition {
            state,
            system_message: Some(msg),
        };
        Ok(match action {
            Action::VisitorMessage | Action::Note => match self.status {
                Resolved if matches!(action, Action::VisitorMessage) => to(
                    self.reopened(),
                    "Conversation reopened by the visitor".into(),
                ),
                _ => same(None),
            },
            Action::AgentMessage(agent) => match self.status {
                Open => to(
                    ConversationState {
                        status: Assigned,
                        assignee: Some(agent.id.clone()),
                    },
                    format!("{} joined the conversation", agent.name),
                ),
                _ => same(None),
            },
            Action::Take(agent) => match self.status {
                Open => to(
                    ConversationState {
                        status: Assigned,
                        assignee: Some(agent.id.clone()),
                    },
                    format!("{} joined the conversation", agent.name),
                ),
                Assigned if self.assignee.as_ref() == Some(&agent.id) => same(None),
                Assigned => return Err(TransitionError::AlreadyAssigned),
                Resolved => return Err(TransitionError::Resolved),
            },
            Action::Assign { to: target, by } => match self.status {
                Resolved => return Err(TransitionError::Resolved),
                _ if self.assignee.as_ref() == Some(&target.id) => same(None),
                _ => to(
                    ConversationState {
                        status: Assigned,
                        assignee: Some(target.id.clone()),
                    },
                    if target.id == by.id {
                        format!("{} joined the conversation", by.name)
                    } else {
                        format!("{} assigned the conversation to {}", by.name, target.name)
                    },
                ),
            },
            Action::Unassign { by } => match self.status {
                Resolved => return Err(TransitionError::Resolved),
                Open => same(None),
                Assigned => to(
                    ConversationState::new_open(),
                    format!("{} returned the conversation to the queue", by.name),
                ),
            },
            Action::Resolve { by } => match self.status {
                Resolved => return Err(TransitionError::AlreadyResolved),
                _ => to(
                    ConversationState {
                        status: Resolved,
                        assignee: self.assignee.clone(),
                    },
                    format!("{} resolved the conversation", by.name),
                ),
            },
            Action::Reopen { by } => match self.status {
                Resolved => to(
                    self.reopened(),
                    format!("{} reopened the conversation", by.name),
                ),
                _ => return Err(TransitionError::NotResolved),
            },
        })
    }
}

/// Whether someone with `role` may do `action` to a conversation in `state`. Admins and
/// supervisors may act on any conversation; agents on their own and on unassigned ones.
/// Everyone may write in any conversation of their organization (colleagues help each other).
pub fn permits(
    role: crate::protocol::Role,
    actor: &AgentId,
    state: &ConversationState,
    action: &Action,
) -> bool {
    use crate::protocol::Role;
    if role != Role::Agent {
        return true;
    }
    let own_or_free = state.assignee.is_none() || state.assignee.as_ref() == Some(actor);
    match action {
        Action::VisitorMessage | Action::AgentMessage(_) | Action::Note | Action::Take(_) => true,
        Action::Assign { to, .. } => {
            own_or_free && (state.assignee.as_ref() == Some(actor) || &to.id == actor)
        }
        Action::Unassign { .. } | Action::Resolve { .. } | Action::Reopen { .. } => own_or_free,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn agents_act_on_their_own_and_unassigned_conversations_only() {
        use crate::protocol::Role;
        let (me, other) = (agent(1), agent(2));
        let free = ConversationState::new_open();
        let mine = free.apply(&Action::Take(me.clone())).unwrap().state;
        let theirs = free.apply(&Action::Take(other.clone())).unwrap().state;
        let resolve = Action::Resolve { by: me.clone() };
        assert!(permits(Role::Agent, &me.id, &free, &resolve));
        assert!(permits(Role::Agent, &me.id, &mine, &resolve));
        assert!(!permits(Role::Agent, &me.id, &theirs, &resolve));
        assert!(permits(Role::Supervisor, &me.id, &theirs, &resolve));
        assert!(permits(Role::Admin, &me.id, &theirs, &resolve));
        // Transferring: your own chat to anyone; someone else's, never; a free one, only to yourself.
        let to_other = Action::Assign {
            to: other.clone(),
            by: me.clone(),
        };
        let to_me = Action::Assign {
            to: me.clone(),
            by: me.clone(),
        };
        assert!(permits(Role::Agent, &me.id, &mine, &to_other));
        assert!(!permits(Role::Agent, &me.id, &theirs, &to_me));
        assert!(!permits(Role::Agent, &me.id, &free, &to_other));
        assert!(permits(Role::Agent, &me.id, &free, &to_me));
        assert!(!permits(
            Role::Agent,
            &me.id,
            &theirs,
            &Action::Unassign { by: me.clone() }
        ));
        // Writing is open to everyone.
        assert!(permits(
            Role::Agent,
            &me.id,
            &theirs,
            &Action::AgentMessage(me.clone())
        ));
        assert!(permits(Role::Agent, &me.id, &theirs, &Action::Note));
    }

    fn agent(n: u8) -> AgentRef {
        AgentRef {
            id: AgentId(format!("agent-{n}")),
            name: format!("Agent {n}"),
        }
    }

    #[test]
    fn open_then_assigned_then_resolved_then_reopened_by_visitor() {
        let s = ConversationState::new_open();
        let t = s.apply(&Action::Take(agent(1))).unwrap();
        assert_eq!(t.state.status, ConversationStatus::Assigned);
        let t = t.state.apply(&Action::Resolve { by: agent(1) }).unwrap();
        assert_eq!(t.state.status, ConversationStatus::Resolved);
        let t = t.state.apply(&Action::VisitorMessage).unwrap();
        assert_eq!(t.state.status, ConversationStatus::Assigned);
        assert_eq!(t.state.assignee, Some(agent(1).id));
        assert!(t.system_message.unwrap().contains("reopened"));
    }

    #[test]
    fn taking_an_assigned_conversation_fails() {
        let s = ConversationState::new_open()
            .apply(&Action::Take(agent(1)))
            .unwrap()
            .state;
        assert_eq!(
            s.apply(&Action::Take(agent(2))),
            Err(TransitionError::AlreadyAssigned)
        );
        // Taking your own conversation again is a no-op, not an error.
        assert_eq!(s.apply(&Action::Take(agent(1))).unwrap().state, s);
    }

    #[test]
    fn replying_to_an_unassigned_conversation_takes_it() {
        let t = ConversationState::new_open()
            .apply(&Action::AgentMessage(agent(3)))
            .unwrap();
        assert_eq!(t.state.assignee, Some(agent(3).id));
    }

    #[test]
    fn notes_never_change_state() {
        let s = ConversationState::new_open();
        assert_eq!(s.apply(&Action::Note).unwrap().state, s);
    }

    #[test]
    fn resolve_twice_and_reopen_open_are_errors() {
        let r = ConversationState::new_open()
            .apply(&Action::Resolve { by: agent(1) })
            .unwrap()
            .state;
        assert_eq!(
            r.apply(&Action::Resolve { by: agent(1) }),
            Err(TransitionError::AlreadyResolved)
        );
        assert_eq!(
            ConversationState::new_open().apply(&Action::Reopen { by: agent(1) }),
            Err(TransitionError::NotResolved)
        );
        assert_eq!(
            r.apply(&Action::Take(agent(1))),
            Err(TransitionError::Resolved)
        );
    }

    fn any_action() -> impl Strategy<Value = Action> {
        let a = (0u8..3).prop_map(agent);
        prop_oneof![
            Just(Action::VisitorMessage),
            Just(Action::Note),
            a.clone().prop_map(Action::AgentMessage),
            a.clone().prop_map(Action::Take),
            (a.clone(), a.clone()).prop_map(|(to, by)| Action::Assign { to, by }),
            a.clone().prop_map(|by| Action::Unassign { by }),
            a.clone().prop_map(|by| Action::Resolve { by }),
            a.prop_map(|by| Action::Reopen { by }),
        ]
    }

    proptest! {
        /// Whatever happens, the status and the assignee agree, and a failed action leaves the
        /// state as it was (the caller keeps the old state).
        #[test]
        fn status_and_assignee_always_agree(actions in proptest::collection::vec(any_action(), 0..40)) {
            let mut s = ConversationState::new_open();
            for a in &actions {
                if let Ok(t) = s.apply(a) {
                    s = t.state;
                }
                match s.status {
                    ConversationStatus::Open => prop_assert!(s.assignee.is_none()),
                    ConversationStatus::Assigned => prop_assert!(s.assignee.is_some()),
                    ConversationStatus::Resolved => {}
                }
            }
        }

        /// A visitor message always leaves the conversation unresolved.
        #[test]
        fn visitor_message_always_unresolves(actions in proptest::collection::vec(any_action(), 0..20)) {
            let mut s = ConversationState::new_open();
            for a in &actions {
                if let Ok(t) = s.apply(a) { s = t.state; }
            }
            let t = s.apply(&Action::VisitorMessage).unwrap();
            prop_assert_ne!(t.state.status, ConversationStatus::Resolved);
        }
    }
}
