//! Where a site's widget may run: its allowed domains, matched against the origin of the page
//! that embeds it, and written as the chat frame's `frame-ancestors` source list.
//!
//! An entry is a host (`example.com`, `localhost`, `127.0.0.1`), optionally with a port
//! (`localhost:3000`); `*.example.com` allows `example.com` and every subdomain of it. An entry
//! without a port allows any port of that host. The scheme is never part of an entry: http and
//! https pages of an allowed host are both allowed. A site with no list of its own allows its own
//! domain and that domain's subdomains.
//!
//! Pages of the chat server's own origin (the hosted chat page, the demo page) are always allowed;
//! the caller passes that origin in.

use crate::InputError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// At most this many entries in a site's list.
pub const MAX_ALLOWED_DOMAINS: usize = 20;

/// One allowed host (with its subdomains when `subdomains`), on one port or any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedDomain {
    host: String,
    port: Option<u16>,
    subdomains: bool,
}

impl AllowedDomain {
    /// Parses `example.com`, `*.example.com`, `localhost:3000` or `127.0.0.1`; a scheme and a
    /// trailing slash are tolerated (`https://example.com/`), a path is not.
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let t = raw.trim().to_ascii_lowercase();
        let t = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .unwrap_or(&t);
        let t = t.strip_suffix('/').unwrap_or(t);
        let (subdomains, t) = match t.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (host, port) = match t.rsplit_once(':') {
            Some((h, p)) => {
                let port = p.parse::<u16>().map_err(|_| InputError::BadDomain)?;
                if port == 0 || p.starts_with('0') {
                    return Err(InputError::BadDomain);
                }
                (h, Some(port))
            }
            None => (t, None),
        };
        if !valid_host(host) || (subdomains && (is_ipv4(host) || !host.contains('.'))) {
            return Err(InputError::BadDomain);
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            subdomains,
        })
    }

    /// The default entry for a site's own domain (as `Domain` stores it: a host, maybe a port):
    /// the host and its subdomains, or just the host when it is an address or a single label
    /// (`localhost`).
    pub fn for_site_domain(domain: &str) -> Option<Self> {
        let mut d = Self::parse(domain).ok()?;
        d.subdomains = d.host.contains('.') && !is_ipv4(&d.host);
        Some(d)
    }

    /// Whether a page on `host`:`port` may embed the widget.
    fn matches(&self, host: &str, port: u16) -> bool {
        let host_ok = host == self.host
            || (self.subdomains
                && host
                    .strip_suffix(self.host.as_str())
                    .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1));
        host_ok && self.port.is_none_or(|p| p == port)
    }

    /// The entry as a CSP host-source list (`example.com:* *.example.com:*`). With no scheme,
    /// a source matches the frame's own scheme and its secure upgrade (http → https).
    fn csp_sources(&self) -> String {
        let port = self.port.map_or("*".to_owned(), |p| p.to_string());
        let exact = format!("{}:{port}", self.host);
        if self.subdomains {
            format!("{exact} *.{}:{port}", self.host)
        } else {
            exact
        }
    }
}

impl std::fmt::Display for AllowedDomain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.subdomains {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

fn is_ipv4(h: &str) -> bool {
    h.parse::<std::net::Ipv4Addr>().is_ok()
}

/// A host name of letters, digits and hyphens in dot-separated labels, or an IPv4 address.
fn valid_host(h: &str) -> bool {
    if is_ipv4(h) {
        return true;
    }
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // The last label of a name is never all digits (that would be a malformed address).
        && !h.rsplit('.').next().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

/// A site's allowed domains: never empty, at most [`MAX_ALLOWED_DOMAINS`], without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedDomains(Vec<AllowedDomain>);

impl AllowedDomains {
    /// Checks a list as an admin typed it. Repeats are dropped; the order is kept.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, InputError> {
        if raw.is_empty() || raw.len() > MAX_ALLOWED_DOMAINS {
            return Err(InputError::BadDomain);
        }
        let mut out: Vec<AllowedDomain> = Vec::with_capacity(raw.len());
        for r in raw {
            let d = AllowedDomain::parse(r.as_ref())?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(Self(out))
    }

    /// The list a site uses: its own (stored) list, or else its domain and its subdomains. A
    /// stored list that no longer parses allows only the site's domain, never anything wider.
    pub fn for_site(stored: Option<&[String]>, site_domain: &str) -> Self {
        if let Some(list) = stored
            && let Ok(l) = Self::parse(list)
        {
            return l;
        }
        Self(
            AllowedDomain::for_site_domain(site_domain)
                .into_iter()
                .collect(),
        )
    }

    pub fn entries(&self) -> &[AllowedDomain] {
        &self.0
    }

    /// The entries as text, as stored and shown (`*.example.com`, `localhost:3000`).
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// Whether a page of this origin (`https://shop.example.com`, `http://localhost:3000`) may
    /// embed the widget. Anything but an http(s) origin (`null`, `file://`) is refused.
    pub fn allows_origin(&self, origin: &str) -> bool {
        parse_origin(origin).is_some_and(|o| self.0.iter().any(|d| d.matches(&o.host, o.port)))
    }

    /// The chat frame's `frame-ancestors` directive: this server's own pages and the list.
    pub fn frame_ancestors(&self) -> String {
        let mut s = String::from("frame-ancestors 'self'");
        for d in &self.0 {
            s.push(' ');
            s.push_str(&d.csp_sources());
        }
        s
    }
}

/// A web origin: scheme, host and port (the scheme's default when not written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

/// The origin of an http(s) URL or origin string; `None` for anything else. User info
/// (`https://a@b/`) and IPv6 literals are not accepted.
pub fn parse_origin(url: &str) -> Option<Origin> {
    let lower = url.trim().to_ascii_lowercase();
    let (https, rest) = if let Some(r) = lower.strip_prefix("https://") {
        (true, r)
    } else {
        (false, lower.strip_prefix("http://")?)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') || authority.starts_with('[') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()?),
        None => (authority, if https { 443 } else { 80 }),
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    valid_host(host).then(|| Origin {
        https,
        host: host.to_owned(),
        port,
    })
}

/// What a browser tells about the page behind a widget request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Referer` header.
    pub referer: Option<&'a str>,
    /// The page URL the widget reported (a session's context).
    pub page_url: Option<&'a str>,
}

/// Whether a widget request may go on. The first piece of evidence present decides: the
/// `Origin` header, else the `Referer`, else the reported page URL; with none (a client that is
/// not a browser, which could claim anything anyway) the request goes on. A request from this
/// server's own origin is the chat frame or one of the server's own pages: the browser keeps the
/// frame off pages that are not allowed (`frame-ancestors`), so it goes on.
pub fn allowed(domains: &AllowedDomains, own_origin: &str, e: Evidence<'_>) -> bool {
    let Some(seen) = e.origin.or(e.referer).or(e.page_url) else {
        return true;
    };
    let Some(o) = parse_origin(seen) else {
        return false;
    };
    if parse_origin(own_origin).is_some_and(|own| own == o) {
        return true;
    }
    domains.0.iter().any(|d| d.matches(&o.host, o.port))
}

/// A site's allowed domains as the admin API reads and writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AllowedDomainsView {
    /// `example.com`, `*.example.com` (the domain and its subdomains), `localhost:3000`.
    pub allowed_domains: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(d: &[&str]) -> AllowedDomains {
        AllowedDomains::parse(d).unwrap()
    }

    #[test]
    fn entries_parse_and_print_back() {
        for (raw, shown) in [
            ("example.com", "example.com"),
            (" HTTPS://Example.COM/ ", "example.com"),
            ("*.example.com", "*.example.com"),
            ("localhost:3000", "localhost:3000"),
            ("127.0.0.1", "127.0.0.1"),
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ] {
            assert_eq!(
                AllowedDomain::parse(raw).unwrap().to_string(),
                shown,
                "{raw}"
            );
        }
    }

    #[test]
    fn bad_entries_are_refused() {
        for raw in [
            "",
            "*",
            "*.com",
            "*.127.0.0.1",
            "example.com/path",
            "exa mple.com",
            "-example.com",
            "example-.com",
            "example..com",
            ".example.com",
            "example.com:0",
            "example.com:99999",
            "example.com:08",
            "example.com:",
            "user@example.com",
            "ex*ample.com",
            "example.com;script-src *",
            "example.com 'unsafe-inline'",
            "1.2.3",
            "[::1]",
            &"a".repeat(64),
        ] {
            assert!(AllowedDomain::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn a_list_is_bounded_and_deduplicated() {
        assert!(AllowedDomains::parse::<&str>(&[]).is_err());
        let many: Vec<String> = (0..=MAX_ALLOWED_DOMAINS)
            .map(|i| format!("s{i}.test"))
            .collect();
        assert!(AllowedDomains::parse(&many).is_err());
        assert!(AllowedDomains::parse(&many[..MAX_ALLOWED_DOMAINS]).is_ok());
        let l = list(&["a.test", "A.test", "https://a.test/", "b.test"]);
        assert_eq!(l.to_strings(), ["a.test", "b.test"]);
        assert!(AllowedDomains::parse(&["a.test", "bad host"]).is_err());
    }

    #[test]
    fn an_exact_host_allows_only_itself_on_any_port_and_scheme() {
        let l = list(&["example.com"]);
        assert!(l.allows_origin("https://example.com"));
        assert!(l.allows_origin("http://example.com:8080"));
        assert!(l.allows_origin("https://EXAMPLE.com/page?q=1"));
        assert!(!l.allows_origin("https://www.example.com"));
        assert!(!l.allows_origin("https://evilexample.com"));
        assert!(!l.allows_origin("https://example.com.evil.test"));
        assert!(!l.allows_origin("https://example.co"));
        assert!(!l.allows_origin("null"));
        assert!(!l.allows_origin("file:///home/example.com"));
        assert!(!l.allows_origin("https://example.com@evil.test"));
    }

    #[test]
    fn a_wildcard_allows_the_domain_and_its_subdomains_only() {
        let l = list(&["*.example.com"]);
        assert!(l.allows_origin("https://example.com"));
        assert!(l.allows_origin("https://www.example.com"));
        assert!(l.allows_origin("https://a.b.example.com:444"));
        assert!(!l.allows_origin("https://evilexample.com"));
        assert!(!l.allows_origin("https://.example.com"));
        assert!(!l.allows_origin("https://example.com.evil.test"));
    }

    #[test]
    fn a_port_limits_the_entry_to_that_port() {
        let l = list(&["localhost:3000", "127.0.0.1"]);
        assert!(l.allows_origin("http://localhost:3000"));
        assert!(!l.allows_origin("http://localhost:3001"));
        assert!(!l.allows_origin("http://localhost"));
        assert!(l.allows_origin("http://127.0.0.1:5173"));
        assert!(l.allows_origin("http://127.0.0.1"));
        // localhost and 127.0.0.1 are different origins.
        assert!(!list(&["127.0.0.1"]).allows_origin("http://localhost:5173"));
        // Default ports count: https without a port is 443.
        assert!(list(&["example.com:443"]).allows_origin("https://example.com"));
        assert!(!list(&["example.com:443"]).allows_origin("http://example.com"));
    }

    #[test]
    fn a_site_without_a_list_allows_its_domain_and_subdomains() {
        let l = AllowedDomains::for_site(None, "shop.test");
        assert_eq!(l.to_strings(), ["*.shop.test"]);
        assert!(l.allows_origin("https://www.shop.test"));
        assert!(!l.allows_origin("https://other.test"));
        assert_eq!(
            AllowedDomains::for_site(None, "localhost:3000").to_strings(),
            ["localhost:3000"]
        );
        assert_eq!(
            AllowedDomains::for_site(None, "127.0.0.1").to_strings(),
            ["127.0.0.1"]
        );
        let own = vec!["a.test".to_owned()];
        assert_eq!(
            AllowedDomains::for_site(Some(&own), "shop.test").to_strings(),
            ["a.test"]
        );
        // A stored list that no longer parses never widens anything.
        let broken = vec!["not a host".to_owned()];
        assert_eq!(
            AllowedDomains::for_site(Some(&broken), "shop.test").to_strings(),
            ["*.shop.test"]
        );
    }

    #[test]
    fn frame_ancestors_lists_self_and_every_entry() {
        let l = list(&["*.example.com", "localhost:3000", "127.0.0.1"]);
        assert_eq!(
            l.frame_ancestors(),
            "frame-ancestors 'self' example.com:* *.example.com:* localhost:3000 127.0.0.1:*"
        );
    }

    #[test]
    fn the_first_evidence_decides() {
        let l = list(&["shop.test"]);
        let own = "http://127.0.0.1:8080";
        let ev = |origin, referer, page_url| Evidence {
            origin,
            referer,
            page_url,
        };
        // No evidence: a client that is not a browser.
        assert!(allowed(&l, own, ev(None, None, None)));
        assert!(allowed(&l, own, ev(Some("https://shop.test"), None, None)));
        assert!(!allowed(&l, own, ev(Some("https://evil.test"), None, None)));
        assert!(!allowed(&l, own, ev(Some("null"), None, None)));
        // Our own origin: the frame (kept off other sites by frame-ancestors) or our pages.
        assert!(allowed(&l, own, ev(Some(own), None, None)));
        assert!(allowed(
            &l,
            own,
            ev(Some(own), None, Some("https://evil.test/"))
        ));
        assert!(!allowed(
            &l,
            own,
            ev(Some("http://127.0.0.1:8081"), None, None)
        ));
        // Without an Origin, the Referer; without either, the page URL.
        assert!(allowed(
            &l,
            own,
            ev(None, Some("https://shop.test/a?b"), None)
        ));
        assert!(!allowed(
            &l,
            own,
            ev(None, Some("https://evil.test/"), None)
        ));
        assert!(allowed(
            &l,
            own,
            ev(None, None, Some("https://shop.test/x"))
        ));
        assert!(!allowed(
            &l,
            own,
            ev(None, None, Some("https://evil.test/x"))
        ));
        assert!(!allowed(
            &l,
            own,
            ev(None, None, Some("javascript:alert(1)"))
        ));
    }

    #[test]
    fn origins_parse_with_default_ports() {
        assert_eq!(
            parse_origin("https://A.test/x"),
            Some(Origin {
                https: true,
                host: "a.test".into(),
                port: 443
            })
        );
        assert_eq!(parse_origin("http://a.test:81").unwrap().port, 81);
        assert_eq!(parse_origin("http://a.test.").unwrap().host, "a.test");
        assert!(parse_origin("ftp://a.test").is_none());
        assert!(parse_origin("http://a.test:x").is_none());
        assert!(parse_origin("http://[::1]:80").is_none());
    }
}
