//! The email adapter: sends agents' replies to offline messages over SMTP (lettre).
//!
//! The writer puts each such reply in the `email_outbox` table in the same transaction that
//! stores it, so a reply that was acknowledged is never lost for email either. This loop sends
//! what is due, marks it sent, and retries failures with a growing delay (up to
//! [`MAX_ATTEMPTS`]). With `smtp_url` empty nothing is sent and the outbox keeps the mail.

use crate::AppState;
use frontdesk_store::{EmailJob, now_ms};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Attempts before a mail is given up on (the last error stays in the outbox row).
pub const MAX_ATTEMPTS: i64 = 8;
const POLL: Duration = Duration::from_millis(500);
/// How long the link in an email keeps working.
const LINK_DAYS: i64 = 30;

pub fn spawn(s: AppState) {
    if s.config.smtp_url.is_empty() {
        tracing::info!(
            "smtp_url is not set: replies to offline messages are kept in the outbox, not emailed"
        );
        return;
    }
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(&s.config.smtp_url) {
        Ok(b) => b.timeout(Some(Duration::from_secs(20))).build(),
        Err(e) => {
            tracing::error!(error = %e, "smtp_url is not valid; no email will be sent");
            return;
        }
    };
    let from: Mailbox = match s.config.email_from.parse() {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "email_from is not a valid address; no email will be sent");
            return;
        }
    };
    tokio::spawn(async move {
        let mut stop = s.shutdown.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.wait_for(|v| *v) => break,
            }
            let jobs = match s.store.due_emails(now_ms(), 20).await {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the email outbox");
                    continue;
                }
            };
            for job in jobs {
                let history = if job.transcript {
                    match s.store.messages(&job.conversation_id, 0, 1000, true).await {
                        Ok(page) => page.items,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot read a conversation for its transcript");
                            continue;
                        }
                    }
                } else {
                    Vec::new()
                };
                let result = match compose(&s, &from, &job, &history) {
                    Ok(m) => transport
                        .send(m)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                let r = match result {
                    Ok(()) => s.store.email_sent(&job.id, now_ms()).await,
                    Err(e) => {
                        let attempts = job.attempts + 1;
                        tracing::warn!(error = %e, attempts, to = %job.to_address, "email not sent");
                        let next = if attempts >= MAX_ATTEMPTS {
                            i64::MAX
                        } else {
                            now_ms() + 5_000 * (1 << attempts.min(10))
                        };
                        s.store.email_failed(&job.id, next, &e).await
                    }
                };
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot update the email outbox");
                }
            }
        }
    });
}

/// The link that brings the visitor back to their conversation, signed in as themselves.
pub fn chat_link(s: &AppState, job: &EmailJob) -> String {
    let token = s.tokens.issue(
        &job.contact_id,
        &job.website_id,
        now_ms() + LINK_DAYS * 86_400_000,
    );
    format!("{}/chat/{}#token={token}", s.base_url, job.site_key)
}

fn compose(
    s: &AppState,
    from: &Mailbox,
    job: &EmailJob,
    history: &[frontdesk_core::protocol::Message],
) -> Result<Message, String> {
    let to: Mailbox = job
        .to_address
        .parse()
        .map_err(|e| format!("bad recipient: {e}"))?;
    if job.transcript {
        let from = Mailbox::new(Some(job.organization_name.clone()), from.email.clone());
        return Message::builder()
            .message_id(None)
            .from(from)
            .to(to)
            .subject(format!("Your conversation with {}", job.website_name))
            .header(ContentType::TEXT_PLAIN)
            .body(transcript(job, history, &chat_link(s, job)))
            .map_err(|e| e.to_string());
    }
    let author = job.author_name.as_deref().unwrap_or("The team");
    // The agent's name in front of the configured address, as help desks do.
    let from = Mailbox::new(
        Some(format!("{author} ({})", job.organization_name)),
        from.email.clone(),
    );
    let body = format!(
        "{text}{files}\n\n— {author}, {org}\n\nContinue the conversation: {link}\n\n\
         You are receiving this because you left a message on {site}.\n",
        text = job.text,
        files = files_line(&job.files, !job.text.is_empty()),
        org = job.organization_name,
        link = chat_link(s, job),
        site = job.website_name,
    );
    Message::builder()
        .message_id(None)
        .from(from)
        .to(to)
        .subject(format!("Re: your message to {}", job.website_name))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}

/// The files a message carries, for a plain-text email: only their names (the files open in
/// the chat, where the visitor is known).
fn files_line(names: &[String], after_text: bool) -> String {
    if names.is_empty() {
        return String::new();
    }
    let sep = if after_text { "\n\n" } else { "" };
    format!(
        "{sep}Files (open the conversation to see them): {}",
        names.join(", ")
    )
}

/// The plain-text transcript: what the visitor saw (never notes), oldest first, in UTC.
pub fn transcript(
    job: &EmailJob,
    history: &[frontdesk_core::protocol::Message],
    link: &str,
) -> String {
    use frontdesk_core::protocol::MessageKind;
    let mut out = format!("Your conversation with {}\n\n", job.website_name);
    for m in history {
        let when = utc(m.created_at);
        let names: Vec<&str> = m.attachments.iter().map(|a| a.name.as_str()).collect();
        let text = match (m.text.is_empty(), names.is_empty()) {
            (_, true) => m.text.clone(),
            (true, false) => format!("[files: {}]", names.join(", ")),
            (false, false) => format!("{} [files: {}]", m.text, names.join(", ")),
        };
        match m.kind {
            MessageKind::Visitor => out.push_str(&format!("[{when}] You: {text}\n")),
            MessageKind::Agent => out.push_str(&format!(
                "[{when}] {}: {text}\n",
                m.author_name.as_deref().unwrap_or("Agent"),
            )),
            MessageKind::System => out.push_str(&format!("[{when}] — {}\n", m.text)),
            MessageKind::Note => {}
        }
    }
    out.push_str(&format!(
        "\nContinue the conversation: {link}\n\nTimes are UTC.\n"
    ));
    out
}

/// `2026-11-23 14:05` in UTC.
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_emails_files_are_named_after_its_text() {
        assert_eq!(super::files_line(&[], true), "");
        let names = ["a.png".to_owned(), "b.pdf".to_owned()];
        assert_eq!(
            super::files_line(&names, true),
            "\n\nFiles (open the conversation to see them): a.png, b.pdf"
        );
        assert!(super::files_line(&names, false).starts_with("Files"));
    }

    #[test]
    fn utc_dates_are_civil_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00");
        assert_eq!(super::utc(1_795_441_500_000), "2026-11-23 13:45");
        assert_eq!(super::utc(951_782_400_000), "2000-02-29 00:00");
    }
}
