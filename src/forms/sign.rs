//! Signing rendered forms, so the endpoint only accepts posts from forms it
//! (or rather, the build) issued: right site, right form, right language,
//! fresh enough, and rendered from the current field schema.
//!
//! The key ring is a short text: one `key-id:hex-secret` per line (or
//! separated by commas). The first key signs new forms; every key listed
//! verifies. Rotation is therefore: put a new key first, rebuild, and drop
//! the old line once every page signed with it has expired.

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The environment variable that holds a key ring, overriding any key file.
pub const KEYS_ENV: &str = "PORTAAL_SIGNING_KEYS";

/// Where `portaal init` puts a site's key ring, relative to the site: beside
/// `public/`, never inside it, and git-ignored.
pub const KEY_FILE: &str = ".portaal/signing.keys";

/// The reproducible-builds variable that fixes the issue time of forms.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// How far in the future an issue time may lie: the endpoint refuses forms
/// issued later than its clock plus this skew.
const FUTURE_SKEW_SECS: u64 = 300;

/// The issue time signed into forms: `$SOURCE_DATE_EPOCH` when set, else
/// the start of today (UTC), so that two builds of a day are identical.
/// A value that is not a whole number of seconds, or lies in the future
/// (every form signed with it would be refused), is an error naming the
/// variable and the value; an empty one counts as unset.
pub fn issue_time(value: Option<&std::ffi::OsStr>, now: u64) -> Result<u64, String> {
    let today = now - now % 86_400;
    let Some(value) = value else {
        return Ok(today);
    };
    let text = value.to_string_lossy();
    if text.trim().is_empty() {
        return Ok(today);
    }
    let Ok(t) = text.trim().parse::<u64>() else {
        return Err(format!(
            "{SOURCE_DATE_EPOCH} is `{text}`, which is not a whole number of seconds since 1970-01-01 UTC"
        ));
    };
    if t > now + FUTURE_SKEW_SECS {
        return Err(format!(
            "{SOURCE_DATE_EPOCH} is `{text}`, which lies in the future: the endpoint would refuse every form signed with it"
        ));
    }
    Ok(t)
}

#[derive(Clone)]
pub struct Key {
    pub id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    /// Never prints the secret, so a key cannot leak through a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

/// The keys that verify; the first one signs.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    pub keys: Vec<Key>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error(
        "{0}: line {1}: expected `key-id:hex-secret` with an id of letters, digits, `-` or `_` and a secret of at least 32 bytes in hex"
    )]
    Syntax(String, usize),
}

impl KeyRing {
    pub fn parse(text: &str, source: &str) -> Result<KeyRing, KeyError> {
        let mut keys = Vec::new();
        let items = text.lines().enumerate().flat_map(|(i, line)| {
            let line = line.trim();
            let line = if line.starts_with('#') { "" } else { line };
            line.split(',').map(move |item| (i, item.trim()))
        });
        for (i, item) in items {
            if item.is_empty() {
                continue;
            }
            let bad = || KeyError::Syntax(source.to_string(), i + 1);
            let (id, hex) = item.split_once(':').ok_or_else(bad)?;
            let id = id.trim();
            let secret = from_hex(hex.trim()).ok_or_else(bad)?;
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                || secret.len() < 32
            {
                return Err(bad());
            }
            keys.push(Key {
                id: id.to_string(),
                secret,
            });
        }
        Ok(KeyRing { keys })
    }

    /// The key ring for a site: `$PORTAAL_SIGNING_KEYS` if set, else the
    /// explicit `key_file`, else the site's own `.portaal/signing.keys`.
    /// `Ok(None)` when there is none at all.
    pub fn find(site_dir: &Path, key_file: Option<&Path>) -> Result<Option<KeyRing>, KeyError> {
        if let Ok(text) = std::env::var(KEYS_ENV)
            && !text.trim().is_empty()
        {
            return KeyRing::parse(&text, KEYS_ENV).map(Some);
        }
        let path = match key_file {
            Some(p) => p.to_path_buf(),
            None => site_dir.join(KEY_FILE),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => KeyRing::parse(&text, &path.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && key_file.is_none() => Ok(None),
            Err(e) => Err(KeyError::Read(path, e)),
        }
    }

    pub fn signing(&self) -> Option<&Key> {
        self.keys.first()
    }

    pub fn get(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// A fresh random key ring line: `k<yyyymmdd>:<64 hex digits>`.
pub fn generate_key_line(date: &str) -> Result<String, getrandom::Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    Ok(format!("k{date}:{}", to_hex(&secret)))
}

/// The values a signature covers, as they appear in the hidden fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims<'a> {
    pub site: &'a str,
    pub form: &'a str,
    pub lang: &'a str,
    pub kid: &'a str,
    /// Issue time, Unix seconds.
    pub issued: u64,
}

fn mac(key: &Key, claims: &Claims<'_>, schema_hash: &[u8; 32]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(&key.secret).expect("HMAC takes keys of any size");
    mac.update(b"portaal-form-v1\0");
    // Each value is length-prefixed, so no two claim sets share an input.
    for part in [claims.site, claims.form, claims.lang, claims.kid] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&claims.issued.to_be_bytes());
    mac.update(schema_hash);
    mac
}

/// The hex signature of `claims` under `key`.
pub fn sign(key: &Key, claims: &Claims<'_>, schema_hash: &[u8; 32]) -> String {
    to_hex(&mac(key, claims, schema_hash).finalize().into_bytes())
}

/// Checks `signature` in constant time. `claims.kid` picks the key.
pub fn verify(
    ring: &KeyRing,
    claims: &Claims<'_>,
    schema_hash: &[u8; 32],
    signature: &str,
) -> bool {
    let Some(key) = ring.get(claims.kid) else {
        return false;
    };
    let Some(tag) = from_hex(signature) else {
        return false;
    };
    mac(key, claims, schema_hash).verify_slice(&tag).is_ok()
}

pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Creates the site's key ring (owner-only), or puts a fresh key first in
/// an existing one, keeping the old keys so cached pages stay valid.
/// Returns the file and whether keys were there before.
pub fn add_key(site_dir: &Path) -> std::io::Result<(PathBuf, bool)> {
    add_key_line(site_dir, None)
}

/// A new key's line, `k<date>:<secret>`, its id unlike those in `existing`.
pub fn new_key_line(existing: Option<&str>) -> std::io::Result<String> {
    use crate::vocab::clock::{day_in, iso_date, now_secs};
    let date = iso_date(day_in(now_secs(), &jiff::tz::TimeZone::UTC)).replace('-', "");
    let mut line = generate_key_line(&date).map_err(std::io::Error::other)?;
    if existing.is_some_and(|old| old.contains(&format!("k{date}"))) {
        let mut n = [0u8; 2];
        getrandom::fill(&mut n).map_err(std::io::Error::other)?;
        line = line.replacen(':', &format!("-{}:", to_hex(&n)), 1);
    }
    Ok(line)
}

/// [`add_key`] with the new key's line given when it was made beforehand
/// ([`new_key_line`]): a build signs with it, and writes it once the site
/// rendered.
pub fn add_key_line(site_dir: &Path, line: Option<String>) -> std::io::Result<(PathBuf, bool)> {
    let path = site_dir.join(KEY_FILE);
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let line = match line {
        Some(line) => line,
        None => new_key_line(existing.as_deref())?,
    };
    let text = match &existing {
        Some(old) => format!("{line}\n{old}"),
        None => format!(
            "# Signing keys of the request forms: `id:secret`, newest first.\n# The first signs; all verify. Never copy this into public/.\n{line}\n"
        ),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok((path, existing.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::parse(
            &format!("new:{}\nold:{}", "11".repeat(32), "22".repeat(32)),
            "test",
        )
        .unwrap()
    }

    #[test]
    fn source_date_epoch_is_checked() {
        use std::ffi::OsStr;
        let now = 1_767_225_600 + 3_600;
        assert_eq!(issue_time(None, now), Ok(1_767_225_600));
        assert_eq!(issue_time(Some(OsStr::new("")), now), Ok(1_767_225_600));
        assert_eq!(
            issue_time(Some(OsStr::new("1700000000")), now),
            Ok(1_700_000_000)
        );
        let garbage = issue_time(Some(OsStr::new("yesterday")), now).unwrap_err();
        assert!(
            garbage.contains("SOURCE_DATE_EPOCH is `yesterday`"),
            "{garbage}"
        );
        let future = issue_time(Some(OsStr::new("99999999999")), now).unwrap_err();
        assert!(future.contains("in the future"), "{future}");
    }

    #[test]
    fn signs_and_verifies_with_every_key_in_the_ring() {
        let ring = ring();
        let schema = [7u8; 32];
        for key in &ring.keys {
            let c = Claims {
                site: "acme",
                form: "access",
                lang: "nl",
                kid: &key.id,
                issued: 1_700_000_000,
            };
            let sig = sign(key, &c, &schema);
            assert!(verify(&ring, &c, &schema, &sig));
            let swapped = Claims {
                form: "erasure",
                ..c.clone()
            };
            assert!(!verify(&ring, &swapped, &schema, &sig));
            assert!(!verify(&ring, &c, &[8u8; 32], &sig));
            let unknown = Claims { kid: "gone", ..c };
            assert!(!verify(&ring, &unknown, &schema, &sig));
        }
    }

    #[test]
    fn rejects_short_secrets_and_never_prints_them() {
        assert!(KeyRing::parse("k:abcd", "t").is_err());
        let ring = ring();
        assert!(!format!("{ring:?}").contains("1111"));
    }
}
