//! Rough location from an IP address, read from an offline MaxMind-format database (GeoLite2 or
//! GeoIP2 City/Country) when `geoip_db` names one. Without a database every lookup is `None`:
//! the location is left empty, never guessed.

use std::net::IpAddr;
use std::path::Path;

pub struct Geoip {
    reader: Option<maxminddb::Reader<Vec<u8>>>,
}

impl Geoip {
    /// No database: every lookup is empty.
    pub fn none() -> Self {
        Geoip { reader: None }
    }

    /// Opens the database at `path`; an empty path means none. A path that does not open is an
    /// error, so a misconfigured server fails at start rather than showing no locations.
    pub fn open(path: &str) -> anyhow::Result<Self> {
        if path.is_empty() {
            return Ok(Self::none());
        }
        let reader = maxminddb::Reader::open_readfile(Path::new(path))
            .map_err(|e| anyhow::anyhow!("geoip_db {path}: {e}"))?;
        Ok(Geoip {
            reader: Some(reader),
        })
    }

    pub fn configured(&self) -> bool {
        self.reader.is_some()
    }

    /// "City, Country" (English names), or the country alone; `None` when unknown or when no
    /// database is configured. Private and loopback addresses have no location.
    pub fn locate(&self, ip: IpAddr) -> Option<String> {
        let reader = self.reader.as_ref()?;
        let record = reader
            .lookup(ip)
            .ok()?
            .decode::<maxminddb::geoip2::City>()
            .ok()??;
        let country = record.country.names.english;
        let city = record.city.names.english;
        match (city, country) {
            (Some(c), Some(k)) => Some(format!("{c}, {k}")),
            (None, Some(k)) => Some(k.to_owned()),
            (Some(c), None) => Some(c.to_owned()),
            (None, None) => None,
        }
        .map(|s| frontdesk_core::clip(&s, 120))
    }
}

/// Test databases, written by hand in the MaxMind DB format.
#[doc(hidden)]
pub mod testdata {
    /// MaxMind DB encoding of a UTF-8 string (short: under 29 bytes).
    fn string(s: &str) -> Vec<u8> {
        let mut v = vec![0x40 | s.len() as u8];
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut v = vec![0xE0 | entries.len() as u8];
        for (k, val) in entries {
            v.extend(string(k));
            v.extend_from_slice(val);
        }
        v
    }

    fn uint(kind: u8, n: u64, bytes: usize) -> Vec<u8> {
        let be = n.to_be_bytes();
        let mut v = match kind {
            5 => vec![0xA0 | bytes as u8],
            6 => vec![0xC0 | bytes as u8],
            // uint64: an extended type (9 - 7).
            _ => vec![bytes as u8, 2],
        };
        v.extend_from_slice(&be[8 - bytes..]);
        v
    }

    /// For tests (no MaxMind test data ships with the crate): a one-node IPv4 database built by hand: 0.0.0.0/1 is Testville, Testland; 128.0.0.0/1
    /// has no record.
    #[doc(hidden)]
    pub fn tiny_test_database() -> Vec<u8> {
        let node_count = 1u32;
        let data = map(&[
            (
                "city",
                map(&[("names", map(&[("en", string("Testville"))]))]),
            ),
            (
                "country",
                map(&[("names", map(&[("en", string("Testland"))]))]),
            ),
        ]);
        let mut db = Vec::new();
        // 24-bit records: left points at the data (node_count + 16 + offset 0), right is empty.
        let left = node_count + 16;
        db.extend_from_slice(&left.to_be_bytes()[1..]);
        db.extend_from_slice(&node_count.to_be_bytes()[1..]);
        db.extend_from_slice(&[0u8; 16]);
        db.extend(data);
        db.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        // An empty array of languages: extended type 11 (11 - 7 = 4), size 0.
        let languages = vec![0x00, 4];
        db.extend(map(&[
            ("binary_format_major_version", uint(5, 2, 1)),
            ("binary_format_minor_version", uint(5, 0, 0)),
            ("build_epoch", uint(9, 1_700_000_000, 4)),
            ("database_type", string("Test-City")),
            ("description", map(&[("en", string("test"))])),
            ("ip_version", uint(5, 4, 1)),
            ("languages", languages),
            ("node_count", uint(6, node_count as u64, 1)),
            ("record_size", uint(5, 24, 1)),
        ]));
        db
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_database_the_location_is_empty() {
        let g = Geoip::open("").unwrap();
        assert!(!g.configured());
        assert_eq!(g.locate("81.2.69.160".parse().unwrap()), None);
        assert_eq!(g.locate("::1".parse().unwrap()), None);
    }

    #[test]
    fn a_configured_database_gives_city_and_country() {
        let path = std::env::temp_dir().join(format!("fd-geoip-tiny-{}.mmdb", std::process::id()));
        std::fs::write(&path, super::testdata::tiny_test_database()).unwrap();
        let g = Geoip::open(path.to_str().unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(g.configured());
        assert_eq!(
            g.locate("81.2.69.160".parse().unwrap()).as_deref(),
            Some("Testville, Testland")
        );
        assert_eq!(g.locate("200.1.2.3".parse().unwrap()), None, "no record");
    }

    #[test]
    fn a_database_that_does_not_open_is_an_error() {
        assert!(Geoip::open("/nonexistent/GeoLite2-City.mmdb").is_err());
        let dir = std::env::temp_dir().join(format!("fd-geoip-{}", std::process::id()));
        std::fs::write(&dir, b"not a maxmind database").unwrap();
        assert!(Geoip::open(dir.to_str().unwrap()).is_err());
        let _ = std::fs::remove_file(&dir);
    }
}
