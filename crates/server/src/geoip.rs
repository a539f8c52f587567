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
    fn a_database_that_does_not_open_is_an_error() {
        assert!(Geoip::open("/nonexistent/GeoLite2-City.mmdb").is_err());
        let dir = std::env::temp_dir().join(format!("fd-geoip-{}", std::process::id()));
        std::fs::write(&dir, b"not a maxmind database").unwrap();
        assert!(Geoip::open(dir.to_str().unwrap()).is_err());
        let _ = std::fs::remove_file(&dir);
    }
}
