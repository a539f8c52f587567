//! Search timings on a large database: `Store::search` (both queries, conversations and
//! contacts, with snippets) for a few kinds of search, p50/p99/max over repeated runs.
//!
//! ```sh
//! cargo bench -p frontdesk-store --features seed --bench search
//! SEARCH_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p frontdesk-store --features seed --bench search
//! ```
//!
//! The data: organization "Big" with `SEARCH_BENCH_CONVERSATIONS` conversations (default
//! 100,000; one named contact each, 1–7 messages of support-chat words, about 4 on average) and
//! organization "Small" with 2,000, so the small one searches a database dominated by another
//! tenant. Seeding goes through `Store::seed` (bulk INSERTs, bypassing the writer; the search
//! indexes are kept by the production triggers and generated columns). The seeded database is
//! kept and reused by later runs with the same size: SQLite in `target/search-bench/`, on
//! PostgreSQL the database `frontdesk_search_bench_N` (N the size) next to the one named.
//! `SEARCH_BENCH_RUNS` (default 40) runs per search.

use frontdesk_core::search::SearchQuery;
use frontdesk_core::*;
use frontdesk_store::{SeedPlan, Store};
use std::time::{Duration, Instant};

const SMALL: usize = 2_000;

/// (label, organization, what is typed)
const SEARCHES: &[(&str, Org, &str)] = &[
    ("common word", Org::Big, "order"),
    ("two common words", Org::Big, "refund order"),
    ("rare word", Org::Big, "zircon"),
    ("prefix (typing)", Org::Big, "deliv"),
    ("two-letter prefix", Org::Big, "re"),
    ("no hit", Org::Big, "xylophone"),
    ("contact name", Org::Big, "müller"),
    ("email", Org::Big, "ann.smith"),
    ("small tenant, common word", Org::Small, "order"),
    ("small tenant, rare word", Org::Small, "zircon"),
];

#[derive(Clone, Copy, PartialEq)]
enum Org {
    Big,
    Small,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = env("SEARCH_BENCH_CONVERSATIONS").unwrap_or(100_000);
    let runs: usize = env("SEARCH_BENCH_RUNS").unwrap_or(40);
    println!("search benchmark: {n} + {SMALL} conversations, {runs} runs per search");

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/search-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = dir.join(format!("search-{n}.db"));
    bench(
        "SQLite",
        Store::open_sqlite(&sqlite).await.unwrap(),
        n,
        runs,
    )
    .await;

    if let Ok(base) = std::env::var("SEARCH_BENCH_POSTGRES_URL") {
        let name = format!("frontdesk_search_bench_{n}");
        let admin = Store::open_postgres(&base).await.unwrap();
        // Exists already (seeded by an earlier run) or is made now.
        let _ = admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await;
        admin.close().await;
        let (head, _) = base.rsplit_once('/').expect("a URL with a database name");
        bench(
            "PostgreSQL",
            Store::open_postgres(&format!("{head}/{name}"))
                .await
                .unwrap(),
            n,
            runs,
        )
        .await;
    }
}

fn env<T: std::str::FromStr>(k: &str) -> Option<T> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

async fn org(s: &Store, tag: &str, conversations: usize, seed: u64) -> OrganizationId {
    let key = format!("bench_{tag}");
    if let Some(id) = s.setting(&key).await.unwrap() {
        return OrganizationId(id);
    }
    let (admin, site) = s
        .create_organization(
            &Name::parse(tag).unwrap(),
            (
                &Email::parse(&format!("admin@{}.test", tag.to_lowercase())).unwrap(),
                &Name::parse("Admin").unwrap(),
                "x",
            ),
            (
                &Name::parse("Site").unwrap(),
                &Domain::parse(&format!("{}.test", tag.to_lowercase())).unwrap(),
                &format!("bench-{tag}"),
            ),
            None,
        )
        .await
        .unwrap();
    let started = Instant::now();
    let plan = SeedPlan {
        conversations,
        random_seed: seed,
        ..SeedPlan::default()
    };
    let r = s
        .seed(&admin.organization_id, &site.id, &plan)
        .await
        .unwrap();
    println!(
        "  seeded {tag}: {} conversations, {} messages, {} contacts in {:.1} s",
        r.conversations,
        r.messages,
        r.contacts,
        started.elapsed().as_secs_f64()
    );
    // Marked only once complete; an interrupted seeding leaves an unmarked organization.
    s.setting_or_insert(&key, admin.organization_id.as_str())
        .await
        .unwrap();
    admin.organization_id
}

async fn bench(label: &str, s: Store, n: usize, runs: usize) {
    s.migrate().await.unwrap();
    println!("\n{label}");
    let big = org(&s, "Big", n, 1).await;
    let small = org(&s, "Small", SMALL, 2).await;
    // Statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would gather them.
    s.execute_admin("ANALYZE").await.unwrap();
    println!(
        "  {:<28} {:>9} {:>9} {:>9} {:>6} {:>6}",
        "search", "p50 ms", "p99 ms", "max ms", "convs", "ctcts"
    );
    for (what, which, text) in SEARCHES {
        let org = if *which == Org::Big { &big } else { &small };
        let q = SearchQuery::parse(text).unwrap();
        let r = s.search(org, &q, 20).await.unwrap(); // warm-up
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let _ = s.search(org, &q, 20).await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let at =
            |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
        println!(
            "  {:<28} {:>9.1} {:>9.1} {:>9.1} {:>6} {:>6}   \"{text}\"",
            what,
            ms(at(0.5)),
            ms(at(0.99)),
            ms(*times.last().unwrap()),
            r.conversations.len(),
            r.contacts.len(),
        );
    }
    s.close().await;
}
