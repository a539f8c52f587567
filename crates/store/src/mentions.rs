//! Mentions: notes that named a colleague, for their mentions list.

use crate::{Result, Store, entropy, on_db};
use frontdesk_core::mentions::MentionView;
use frontdesk_core::*;

impl Store {
    /// Records that a note mentioned these agents (a retry of the same note adds nothing).
    pub async fn add_mentions(
        &self,
        org: &OrganizationId,
        conversation: &ConversationId,
        message: &MessageId,
        by_name: &str,
        agents: &[AgentId],
        now: Millis,
    ) -> Result<()> {
        on_db!(&self.db, |p| {
            for a in agents {
                sqlx::query(
                    "INSERT INTO mentions (id, organization_id, agent_id, conversation_id, message_id, by_name, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id, agent_id) DO NOTHING",
                )
                .bind(MessageId::new(now, entropy()).as_str())
                .bind(org.as_str())
                .bind(a.as_str())
                .bind(conversation.as_str())
                .bind(message.as_str())
                .bind(by_name)
                .bind(now)
                .execute(p)
                .await?;
            }
        });
        Ok(())
    }

    /// An agent's mentions, newest first.
    pub async fn mentions(
        &self,
        org: &OrganizationId,
        agent: &AgentId,
        limit: i64,
    ) -> Result<Vec<MentionView>> {
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            i64,
            Option<i64>,
        );
        let rows: Vec<Row> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT m.id, m.conversation_id, ct.name, m.by_name, msg.body, m.created_at, m.read_at \
                 FROM mentions m JOIN messages msg ON msg.id = m.message_id \
                 JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id \
                 WHERE m.organization_id = $1 AND m.agent_id = $2 ORDER BY m.created_at DESC, m.id DESC LIMIT $3",
            )
            .bind(org.as_str())
            .bind(agent.as_str())
            .bind(limit.clamp(1, 200))
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, conv, contact, by, text, at, read)| MentionView {
                id,
                conversation_id: ConversationId(conv),
                contact_name: contact,
                by_name: by,
                text,
                created_at: at,
                read: read.is_some(),
            })
            .collect())
    }

    /// Marks an agent's mentions in a conversation as read (they opened it).
    pub async fn read_mentions(
        &self,
        agent: &AgentId,
        conversation: &ConversationId,
        now: Millis,
    ) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query(
                "UPDATE mentions SET read_at = $3 WHERE agent_id = $1 AND conversation_id = $2 AND read_at IS NULL",
            )
            .bind(agent.as_str())
            .bind(conversation.as_str())
            .bind(now)
            .execute(p)
            .await?;
        });
        Ok(())
    }
}
