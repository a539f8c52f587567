//! Fills an existing Frontdesk database with conversations, for benchmarks:
//!
//! ```sh
//! cargo run --release -p frontdesk-store --features seed --example seed -- \
//!     DATABASE_URL [--conversations N] [--max-messages N] [--open]
//! ```
//!
//! `DATABASE_URL` is what the server uses (`postgres://…` or a SQLite file, e.g. a data
//! directory's `frontdesk.db`). The data goes to the oldest organization and its first
//! website (the demo's, for `frontdesk demo`). With `--open` every conversation is open and
//! unassigned, as in a busy "New" tab. It bypasses the writer (see `Store::seed`), so a server
//! may run meanwhile but does not hear of the new rows until it reads them.

use frontdesk_store::{SeedPlan, Store};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut plan = SeedPlan::default();
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> usize {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{what} needs a number"))
        };
        match a.as_str() {
            "--conversations" => plan.conversations = num("--conversations"),
            "--max-messages" => plan.max_messages = num("--max-messages"),
            "--open" => plan.all_open = true,
            _ if url.is_none() && !a.starts_with("--") => url = Some(a),
            _ => panic!("unknown argument {a}"),
        }
    }
    let url =
        url.expect("usage: seed DATABASE_URL [--conversations N] [--max-messages N] [--open]");
    let store = Store::open(&url).await.expect("open the database");
    store.migrate().await.expect("migrate");
    let org = store.first_organization().await.expect("read").expect(
        "the database has no organization yet: start the server once (e.g. `frontdesk demo`)",
    );
    let site = store
        .websites(&org)
        .await
        .expect("read")
        .into_iter()
        .next()
        .expect("the organization has no website");
    let started = std::time::Instant::now();
    let r = store.seed(&org, &site.id, &plan).await.expect("seed");
    println!(
        "seeded {} conversations, {} messages, {} contacts in {:.1} s",
        r.conversations,
        r.messages,
        r.contacts,
        started.elapsed().as_secs_f64()
    );
    store.close().await;
}
