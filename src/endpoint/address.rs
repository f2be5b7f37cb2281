//! E-mail addresses as the endpoint writes them into headers and envelopes.
//!
//! Every domain is converted to its A-label form (IDNA, `bücher.test` →
//! `xn--bcher-kva.test`), so an address with an internationalised domain
//! needs nothing from the relay. Only a non-ASCII local part (`zoë@…`)
//! still needs SMTPUTF8; `needs_smtputf8` tells.
//!
//! A requester's address, typed by a visitor, must also be one the
//! acknowledgement can reach on the public internet. Refused (422):
//! quoted local parts (`"a,b"@x.be`), address literals (`ann@[192.0.2.1]`),
//! single-label domains (`ann@intranet`), names under `localhost`,
//! `.localhost` and `.invalid` (RFC 6761: they never reach a mailbox
//! elsewhere, and `localhost` would aim the acknowledgement at the relay
//! host's own mailboxes), and a numeric last label (`ann@192.0.2.1`).
//! Test and example names (`.test`, `.example`) stay accepted: they are
//! how agencies try a portal out.

use lettre::Address;

/// Why a requester's address is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an address at all.
    Syntax,
    /// A valid address of a form the endpoint does not mail (see the
    /// module comment).
    Unusable,
}

/// The domain's A-label form, lower-case; `None` when it is not a valid
/// host name (IDNA with the STD3 rules and DNS lengths).
pub fn ascii_domain(domain: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_strict(domain).ok()?;
    (!ascii.is_empty()).then_some(ascii)
}

/// A requester's address, checked against the rules above, with its
/// domain as A-label.
pub fn requester(s: &str) -> Result<Address, Refusal> {
    if s.is_empty()
        || s.len() > 254
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_format_char(c))
    {
        return Err(Refusal::Syntax);
    }
    let (local, domain) = s.rsplit_once('@').ok_or(Refusal::Syntax)?;
    if local.starts_with('"') || domain.starts_with('[') {
        // lettre would take both; the acknowledgement could not be built
        // for them, and some relays refuse them.
        return s
            .parse::<Address>()
            .map_err(|_| Refusal::Syntax)
            .and(Err(Refusal::Unusable));
    }
    if local.is_empty() || local.len() > 64 {
        return Err(Refusal::Syntax);
    }
    let ascii = ascii_domain(domain).ok_or(Refusal::Syntax)?;
    let address = Address::new(local, &ascii).map_err(|_| Refusal::Syntax)?;
    if is_reserved(&ascii) {
        return Err(Refusal::Unusable);
    }
    Ok(address)
}

/// A configured address (`[contacts]`, `--from`) with its domain as
/// A-label. Address literals are kept as they are: the agency chose them.
pub fn configured(s: &str) -> Result<Address, String> {
    let parsed: Address = s
        .parse()
        .map_err(|e| format!("`{s}` is not an e-mail address: {e}"))?;
    if parsed.domain().starts_with('[') {
        return Ok(parsed);
    }
    let ascii = ascii_domain(parsed.domain())
        .ok_or_else(|| format!("`{s}`: the domain is not a valid host name"))?;
    Address::new(parsed.user(), &ascii).map_err(|e| format!("`{s}`: {e}"))
}

/// True when sending to or naming this address needs SMTPUTF8: its
/// local part is not ASCII (the domain already is, see `requester`).
pub fn needs_smtputf8(a: &Address) -> bool {
    !AsRef::<str>::as_ref(a).is_ascii()
}

/// Domains that never reach a mailbox on the public internet.
fn is_reserved(ascii_domain: &str) -> bool {
    let d = ascii_domain.trim_end_matches('.').to_ascii_lowercase();
    let last = d.rsplit('.').next().unwrap_or_default();
    !d.contains('.')
        || last == "localhost"
        || last == "invalid"
        || last.bytes().all(|b| b.is_ascii_digit())
}

/// Unicode format characters (general category Cf: bidi controls, zero
/// width characters, tags) and the line and paragraph separators. None of
/// them belongs in a header: U+202E makes `Ann \u{202E}moc.live@nna`
/// display as an address lookalike. The table follows Unicode 15.1.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idn_domains_become_a_labels() {
        let a = requester("user@bücher.test").unwrap();
        assert_eq!(a.to_string(), "user@xn--bcher-kva.test");
        assert!(!needs_smtputf8(&a));
        let a = requester("Ann@Example.BE").unwrap();
        assert_eq!(a.domain(), "example.be");
        assert_eq!(
            configured("portaal@bücher.test").unwrap().to_string(),
            "portaal@xn--bcher-kva.test"
        );
    }

    #[test]
    fn a_non_ascii_local_part_is_kept_and_flagged() {
        let a = requester("zoë@bücher.test").unwrap();
        assert_eq!(a.to_string(), "zoë@xn--bcher-kva.test");
        assert!(needs_smtputf8(&a));
    }

    #[test]
    fn acknowledgements_silently_dropped_address_forms_are_refused() {
        for s in [
            "user@[192.0.2.1]",
            "user@[IPv6:2001:db8::1]",
            "\"a,b\"@bezoeker.test",
            "\"a..b\"@bezoeker.test",
            "\"a@b\"@bezoeker.test",
            "nosuchuser@localhost",
            "ann@intranet",
            "ann@mail.localhost",
            "ann@host.invalid",
            "ann@192.0.2.1",
        ] {
            assert_eq!(requester(s), Err(Refusal::Unusable), "{s}");
        }
        for s in [
            "",
            "ann",
            "ann@",
            "@x.be",
            "a b@x.be",
            "ann@x_y.be",
            "ann\u{202E}@x.be",
            "ann@-x.be",
        ] {
            assert_eq!(requester(s), Err(Refusal::Syntax), "{s}");
        }
        assert!(requester("ann@example.test").is_ok());
        assert!(requester("ann.peeters+gdpr@sub.example.be").is_ok());
    }

    #[test]
    fn format_characters_are_recognised() {
        for c in [
            '\u{202E}', '\u{202C}', '\u{200B}', '\u{2066}', '\u{FEFF}', '\u{2028}',
        ] {
            assert!(is_format_char(c), "{c:?}");
        }
        for c in ['a', 'ë', '李', '😀', ' '] {
            assert!(!is_format_char(c), "{c:?}");
        }
    }
}
