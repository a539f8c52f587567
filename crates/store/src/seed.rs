//! Bulk test data for benchmarks (cargo feature `seed`, off in the server): many contacts,
//! conversations and messages, written with multi-row INSERTs in large transactions.
//!
//! This bypasses the writer on purpose: it is a hundred times faster, and there is nobody to
//! order against. Each conversation is written whole and consistent (its counters, preview and
//! receipts match its messages), so the server reads it like any other; the search indexes are
//! kept by the same triggers and generated columns as in production. Ids are UUIDv7 of each
//! row's own (past) time, so id order is time order, as it is for live data. Deterministic: the
//! same plan gives the same text.

use crate::BeginWrite;
use crate::{Result, Store, index_new_messages, on_db, search_mark};
use frontdesk_core::*;

/// What to write.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    pub conversations: usize,
    /// Messages per conversation, uniformly from 1 to this (visitor and agent in turn).
    pub max_messages: usize,
    /// Every conversation open and unassigned (an inbox's "New" tab); otherwise one in ten
    /// open and the rest resolved. Open ones are offline messages (written while nobody was
    /// online), so routing leaves them alone.
    pub all_open: bool,
    /// The newest conversation starts this long before `now` (ms); the others are spread over
    /// the year before it.
    pub now: Millis,
    pub random_seed: u64,
}

impl Default for SeedPlan {
    fn default() -> Self {
        Self {
            conversations: 1000,
            max_messages: 7,
            all_open: false,
            now: crate::now_ms(),
            random_seed: 1,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    pub contacts: usize,
    pub conversations: usize,
    pub messages: usize,
}

/// A small deterministic generator (xorshift64*), so the data is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn u128(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }
    /// A word by rank, roughly Zipf: the k-th most common is about 1/k as frequent as the first.
    fn zipf<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let n = words.len() as f64;
        let r = ((n + 1.0).powf(self.unit()) - 1.0) as usize;
        words[r.min(words.len() - 1)]
    }
}

/// Support-chat vocabulary, most common first.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "i", "to", "you", "a", "my", "is", "and", "it", "for", "your", "order", "can", "we",
    "this", "have", "of", "on", "please", "in", "that", "be", "thanks", "with", "not", "me", "do",
    "will", "hi", "help", "was", "delivery", "account", "are", "what", "at", "if", "just", "need",
    "would", "like", "know", "get", "there", "an", "refund", "when", "hello", "check", "let",
    "payment", "email", "but", "so", "our", "time", "no", "yes", "up", "one", "how", "shipping",
    "sure", "about", "card", "still", "back", "from", "which", "number", "day", "today", "now",
    "could", "address", "problem", "again", "new", "look", "see", "been", "did", "password",
    "login", "invoice", "price", "plan", "subscription", "cancel", "change", "product", "size",
    "return", "week", "tracking", "package", "received", "sent", "message", "support", "team",
    "issue", "working", "error", "page", "website", "app", "phone", "call", "store", "item",
    "items", "cart", "checkout", "discount", "code", "coupon", "free", "cost", "charge", "charged",
    "twice", "bank", "transfer", "credit", "debit", "paypal", "receipt", "tax", "delivered",
    "delivering", "courier", "parcel", "warehouse", "stock", "available", "backorder", "colour",
    "color", "blue", "black", "white", "red", "green", "large", "small", "medium", "exchange",
    "damaged", "broken", "missing", "wrong", "late", "early", "tomorrow", "monday", "tuesday",
    "wednesday", "thursday", "friday", "weekend", "morning", "evening", "hours", "open", "closed",
    "holiday", "update", "upgrade", "downgrade", "renew", "renewal", "trial", "premium", "basic",
    "business", "enterprise", "team", "seat", "seats", "user", "users", "admin", "settings",
    "profile", "reset", "link", "expired", "verify", "verified", "confirmation", "confirm",
    "booking", "reservation", "appointment", "schedule", "table", "room", "ticket", "event",
    "flight", "hotel", "insurance", "policy", "claim", "warranty", "repair", "install",
    "installation", "setup", "manual", "guide", "instructions", "battery", "charger", "cable",
    "screen", "keyboard", "laptop", "printer", "router", "wifi", "internet", "connection", "slow",
    "fast", "speed", "download", "upload", "file", "files", "photo", "photos", "document",
    "documents", "pdf", "export", "import", "sync", "backup", "restore", "delete", "deleted",
    "recover", "privacy", "gdpr", "data", "security", "unsubscribe", "newsletter", "notification",
    "notifications", "language", "english", "german", "french", "spanish", "italian", "dutch",
    "shipping", "international", "customs", "duty", "fees", "express", "standard", "overnight",
    "pickup", "locker", "signature", "neighbour", "door", "building", "apartment", "floor",
    "street", "city", "country", "postcode", "zip", "gift", "wrapping", "voucher", "balance",
    "points", "loyalty", "member", "membership", "vip", "wholesale", "bulk", "quote", "estimate",
    "catalogue", "brochure", "sample", "samples", "fabric", "leather", "cotton", "wool", "silk",
    "shoes", "boots", "jacket", "dress", "shirt", "trousers", "jeans", "hat", "scarf", "gloves",
    "bag", "wallet", "watch", "ring", "necklace", "earrings", "glasses", "lens", "lenses",
    "prescription", "pharmacy", "medicine", "doctor", "clinic", "dentist", "vet", "dog", "cat",
    "food", "menu", "allergy", "vegan", "gluten", "organic", "fresh", "frozen", "bakery", "coffee",
    "tea", "wine", "beer", "bottle", "glass", "plate", "cup", "kitchen", "garden", "furniture",
    "sofa", "chair", "desk", "bed", "mattress", "pillow", "lamp", "curtain", "carpet", "paint",
    "tools", "drill", "ladder", "bike", "helmet", "tyre", "car", "parking", "rental", "lease",
    "contract", "terms", "conditions", "agreement", "signature", "invoice", "statement", "overdue",
    "reminder", "collection", "dispute", "chargeback", "fraud", "stolen", "locked", "blocked",
    "suspended", "appeal", "feedback", "complaint", "review", "rating", "survey", "suggestion",
    "feature", "request", "bug", "crash", "freeze", "loading", "blank", "spinner", "timeout",
    "browser", "chrome", "firefox", "safari", "android", "iphone", "ipad", "tablet", "desktop",
    "mobile", "version", "beta", "release", "roadmap", "integration", "api", "webhook", "zapier",
    "slack", "crm", "spreadsheet", "report", "dashboard", "analytics", "chart", "graph",
];

/// Words that occur rarely, on purpose (for a rare-word search).
const RARE: &[&str] = &["zircon", "quetzal", "marzipan"];

#[rustfmt::skip]
const FIRST: &[&str] = &[
    "Ann", "Ben", "Chloé", "David", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tomás", "Uma", "Vera",
    "Wei", "Xenia", "Yusuf", "Zoë", "Amelia", "Bruno", "Carmen", "Dmitri", "Elif", "Felix",
    "Gabriel", "Hannah", "Ivan", "Julia", "Karim", "Laura", "Marco", "Noor", "Olga", "Pedro",
    "Rahul", "Sara", "Théo", "Ursula", "Viktor", "Wanda", "Yara", "Zeynep",
];
#[rustfmt::skip]
const LAST: &[&str] = &[
    "Smith", "García", "Müller", "Rossi", "Novak", "Kowalski", "Johansson", "Dubois", "Silva",
    "Kim", "Nguyen", "Okafor", "Haddad", "Tanaka", "Schmidt", "Jensen", "Moreau", "Costa",
    "Fischer", "Lopez", "Brown", "Wilson", "Taylor", "Anders", "Petrov", "Yilmaz", "Ivanova",
    "Andersson", "Nielsen", "Bauer", "Fontaine", "Ricci", "Horvath", "Kovács", "Popescu", "O'Brien",
    "MacLeod", "Van Dijk", "De Smet", "Lindqvist",
];
#[rustfmt::skip]
const COMPANIES: &[&str] = &[
    "Acme Widgets", "Globex", "Initech", "Umbrella Foods", "Stark Logistics", "Wayne Textiles",
    "Hooli", "Vandelay Imports", "Soylent", "Tyrell Labs", "Cyberdyne", "Wonka Sweets", "Gringotts",
    "Oceanic Travel", "Pied Piper", "Aperture Optics", "Monarch Print", "Blue Sun",
    "Nakatomi Trading", "Duff Brewing",
];

fn sentence(rng: &mut Rng) -> String {
    let n = 6 + rng.below(25);
    let mut words: Vec<&str> = (0..n).map(|_| rng.zipf(WORDS)).collect();
    if rng.below(20_000) == 0 {
        let at = rng.below(words.len());
        words[at] = RARE[rng.below(RARE.len())];
    }
    let mut s = words.join(" ");
    if let Some(f) = s.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    s.push(if rng.below(4) == 0 { '?' } else { '.' });
    s
}

/// A message to write: id, kind, text, time.
type SeedMessage = (String, &'static str, String, Millis);

struct Row {
    contact: [Option<String>; 4],
    contact_id: String,
    conv_id: String,
    created: Millis,
    status: &'static str,
    messages: Vec<SeedMessage>,
}

impl Store {
    /// Writes `plan` into `org`'s `website` (see the module's comment). Not for production.
    #[doc(hidden)]
    pub async fn seed(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
        plan: &SeedPlan,
    ) -> Result<SeedReport> {
        let mut rng = Rng(plan.random_seed.max(1));
        let mut report = SeedReport::default();
        let span: Millis = 365 * 86_400_000;
        let step = span / plan.conversations.max(1) as i64;
        let first = plan.now - span;
        let batch = 500;
        let mut i = 0;
        while i < plan.conversations {
            let n = batch.min(plan.conversations - i);
            let mut rows = Vec::with_capacity(n);
            for k in 0..n {
                let created = first + (i + k) as i64 * step;
                let f = FIRST[rng.below(FIRST.len())];
                let l = LAST[rng.below(LAST.len())];
                let company = (rng.below(3) == 0).then(|| COMPANIES[rng.below(COMPANIES.len())]);
                let mail_name: String = format!("{f}.{l}{}", rng.below(1000))
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect::<String>()
                    .to_lowercase();
                let contact = [
                    Some(format!("{f} {l}")),
                    Some(format!("{mail_name}@example.com")),
                    (rng.below(2) == 0).then(|| format!("+1 555-{:04}", rng.below(10_000))),
                    company.map(str::to_owned),
                ];
                let m = 1 + rng.below(plan.max_messages.max(1));
                let messages = (0..m)
                    .map(|j| {
                        let at = created + j as i64 * 60_000;
                        let kind = if j % 2 == 0 { "visitor" } else { "agent" };
                        (
                            MessageId::new(at, rng.u128()).0,
                            kind,
                            sentence(&mut rng),
                            at,
                        )
                    })
                    .collect();
                let status = if plan.all_open || rng.below(10) == 0 {
                    "open"
                } else {
                    "resolved"
                };
                rows.push(Row {
                    contact,
                    contact_id: ContactId::new(created, rng.u128()).0,
                    conv_id: ConversationId::new(created, rng.u128()).0,
                    created,
                    status,
                    messages,
                });
            }
            // A running server may hold the write lock a moment (SQLite): nothing of a failed
            // batch was stored, so it is tried again.
            let mut tries = 0;
            loop {
                match self.seed_batch(org, website, &rows).await {
                    Err(crate::StoreError::Unavailable(e))
                        if tries < 20 && e.contains("locked") =>
                    {
                        tries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    r => break r?,
                }
            }
            report.contacts += rows.len();
            report.conversations += rows.len();
            report.messages += rows.iter().map(|r| r.messages.len()).sum::<usize>();
            i += n;
        }
        Ok(report)
    }

    async fn seed_batch(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
        rows: &[Row],
    ) -> Result<()> {
        let placeholders = |rows: usize, cols: usize| -> String {
            (0..rows)
                .map(|r| {
                    let p: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
                    format!("({})", p.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let contacts_sql = format!(
            "INSERT INTO contacts (id, organization_id, website_id, name, email, phone, company, created_at, last_seen_at) VALUES {}",
            placeholders(rows.len(), 9)
        );
        let convs_sql = format!(
            "INSERT INTO conversations (id, organization_id, website_id, contact_id, status, last_seq, last_public_seq, \
             visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq, unread, \
             last_message_preview, last_message_at, created_at, updated_at, enqueued_at, resolved_at, offline) VALUES {}",
            placeholders(rows.len(), 19)
        );
        let messages: Vec<(&Row, &SeedMessage, usize)> = rows
            .iter()
            .flat_map(|r| {
                r.messages
                    .iter()
                    .enumerate()
                    .map(move |(j, m)| (r, m, j + 1))
            })
            .collect();
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            let mark = search_mark!(p, tx);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(contacts_sql));
            for r in rows {
                let [name, email, phone, company] = &r.contact;
                q = q
                    .bind(&r.contact_id)
                    .bind(org.as_str())
                    .bind(website.as_str())
                    .bind(name)
                    .bind(email)
                    .bind(phone)
                    .bind(company)
                    .bind(r.created)
                    .bind(r.created);
            }
            q.execute(&mut *tx).await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(convs_sql));
            for r in rows {
                let n = r.messages.len() as i64;
                let last = r.messages.last().map(|m| (m.2.as_str(), m.3));
                // The visitor wrote last when the count is odd: one unread for the agents.
                let unread = n % 2;
                let agent_seen = n - unread;
                let resolved = r.status == "resolved";
                q = q
                    .bind(&r.conv_id)
                    .bind(org.as_str())
                    .bind(website.as_str())
                    .bind(&r.contact_id)
                    .bind(r.status)
                    .bind(n)
                    .bind(n)
                    .bind(n)
                    .bind(n)
                    .bind(agent_seen)
                    .bind(agent_seen)
                    .bind(unread)
                    .bind(last.map(|l| clip(l.0, 160)))
                    .bind(last.map(|l| l.1))
                    .bind(r.created)
                    .bind(last.map_or(r.created, |l| l.1))
                    .bind((!resolved).then_some(r.created))
                    .bind(resolved.then(|| last.map_or(r.created, |l| l.1)))
                    .bind(i64::from(!resolved));
            }
            q.execute(&mut *tx).await?;
            for chunk in messages.chunks(1000) {
                let sql = format!(
                    "INSERT INTO messages (id, conversation_id, seq, public_seq, kind, author_name, body, created_at) VALUES {}",
                    placeholders(chunk.len(), 8)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (r, (id, kind, body, at), seq) in chunk {
                    q = q
                        .bind(id)
                        .bind(&r.conv_id)
                        .bind(*seq as i64)
                        .bind(*seq as i64)
                        .bind(*kind)
                        .bind((*kind == "agent").then_some("Support"))
                        .bind(body)
                        .bind(*at);
                }
                q.execute(&mut *tx).await?;
            }
            index_new_messages!(tx, mark);
            tx.commit().await?;
        });
        Ok(())
    }
}
