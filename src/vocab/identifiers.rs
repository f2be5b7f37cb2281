//! Syntax checks for the identifiers a privacy statement publishes.

use std::str::FromStr;

/// Checks an e-mail address the way the mailer will read it.
pub fn is_valid_email(s: &str) -> bool {
    lettre::Address::from_str(s).is_ok()
}

/// Checks an absolute `http` or `https` URL.
pub fn is_valid_web_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Why `id` cannot serve as an identifier, if it cannot. Ids (of the site,
/// purposes, recipients, forms) become HTML ids, URL parts and signed
/// values, so they are kept to lower-case ASCII letters, digits and hyphens.
pub fn id_problem(what: &str, id: &str) -> Option<String> {
    if id.is_empty() {
        return Some(format!("{what} is empty"));
    }
    let ok = id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (!ok)
        .then(|| format!("{what} `{id}` should be lower-case letters a-z, digits and hyphens only"))
}

/// Why a portal's base URL cannot be used, if it cannot: it is printed into
/// every page, every link and the sitemap, so it must be a plain absolute
/// http(s) address, without a user name, password, query or fragment.
pub fn base_url_problem(s: &str) -> Option<String> {
    let Ok(u) = url::Url::parse(s) else {
        return Some(format!("`{s}` is not an absolute http(s) URL"));
    };
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Some(format!("`{s}` is not an absolute http(s) URL"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Some(format!(
            "`{s}` holds a user name or password, which would be printed on every page"
        ));
    }
    if u.query().is_some() {
        return Some(format!(
            "`{s}` has a query (`?…`); a base URL cannot have one"
        ));
    }
    if u.fragment().is_some() {
        return Some(format!(
            "`{s}` has a fragment (`#…`); a base URL cannot have one"
        ));
    }
    None
}

/// Why an enterprise number is not valid, if it is not.
///
/// Belgian numbers (KBO/BCE) have ten digits, start with 0 or 1, and end with
/// a check number: 97 minus the first eight digits modulo 97. Dots, spaces and
/// a `BE` prefix are allowed. Dutch KvK numbers have eight digits.
pub fn enterprise_number_problem(number: &str, country: &str) -> Option<String> {
    let digits: String = number
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .chars()
        .filter(|c| !matches!(c, '.' | ' '))
        .collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(format!(
            "enterprise number `{number}` should contain only digits, dots and spaces"
        ));
    }
    match country {
        "BE" => {
            if digits.len() != 10 || !(digits.starts_with('0') || digits.starts_with('1')) {
                return Some(format!(
                    "Belgian enterprise number `{number}` should have ten digits starting with 0 or 1, e.g. 0123.456.749"
                ));
            }
            let base: u64 = digits[..8].parse().ok()?;
            let check: u64 = digits[8..].parse().ok()?;
            let expected = 97 - base % 97;
            (check != expected).then(|| {
                format!(
                    "Belgian enterprise number `{number}` fails its check: the last two digits should be {expected:02} for these first eight; check the number on the KBO/BCE register"
                )
            })
        }
        "NL" => (digits.len() != 8)
            .then(|| format!("Dutch KvK number `{number}` should have eight digits")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn belgian_numbers_pass_mod_97() {
        // 01234567 % 97 = 48, 97 - 48 = 49.
        assert_eq!(enterprise_number_problem("0123.456.749", "BE"), None);
        assert_eq!(enterprise_number_problem("BE 0123456749", "BE"), None);
        assert!(enterprise_number_problem("0123.456.748", "BE").is_some());
        assert!(enterprise_number_problem("2123.456.749", "BE").is_some());
        assert!(enterprise_number_problem("123", "BE").is_some());
    }

    #[test]
    fn dutch_numbers_have_eight_digits() {
        assert_eq!(enterprise_number_problem("12345678", "NL"), None);
        assert!(enterprise_number_problem("1234567", "NL").is_some());
    }

    #[test]
    fn ids_and_base_urls() {
        assert_eq!(id_problem("purpose id", "orders-2"), None);
        for bad in ["", "my orders", "café", "Orders", "a_b"] {
            assert!(id_problem("purpose id", bad).is_some(), "{bad:?}");
        }
        assert_eq!(base_url_problem("https://privacy.example.be/portal/"), None);
        for bad in [
            "https://user:secret@privacy.example.be",
            "https://privacy.example.be/?a=1",
            "https://privacy.example.be/#top",
            "privacy.example.be",
        ] {
            assert!(base_url_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn emails_and_urls() {
        assert!(is_valid_email("info@example.be"));
        assert!(!is_valid_email("info@"));
        assert!(!is_valid_email("info example.be"));
        assert!(is_valid_web_url("https://privacy.example.be"));
        assert!(!is_valid_web_url("privacy.example.be"));
        assert!(!is_valid_web_url("ftp://example.be"));
    }
}
