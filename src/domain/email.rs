//! One rule for an email address, wherever one is typed: staff accounts on
//! the admin page and by `rapport user`, clients on the pages, over the API
//! and in CSV files.

/// An address Rapport will write to: trimmed, valid SMTP syntax (as lettre
/// reads it), at most 254 characters, and a domain with a dot in it (a
/// clinic never writes to `name@localhost`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<EmailAddress, String> {
        let text = text.trim();
        let domain_has_a_dot = text
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
        if text.len() > 254 || !domain_has_a_dot || text.parse::<lettre::Address>().is_err() {
            return Err(format!(
                "\"{text}\" is not a valid email address (such as name@example.org)"
            ));
        }
        Ok(EmailAddress(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_clinics_write_to() {
        for good in [
            "sam@example.org",
            "  ana.b+rapport@mail.example.co.uk ",
            "o'neil@example.ie",
        ] {
            assert_eq!(EmailAddress::parse(good).unwrap().as_str(), good.trim(), "{good}");
        }
        for bad in [
            "",
            "sam",
            "sam@",
            "@example.org",
            "sam@localhost",
            "sam@example.",
            "sam@.example.org",
            "sam example@example.org",
            "sam@exa mple.org",
            "a\u{0}b@example.org",
        ] {
            let e = EmailAddress::parse(bad).unwrap_err();
            assert!(e.contains("not a valid email address"), "{bad}: {e}");
        }
        assert!(EmailAddress::parse(&format!("{}@example.org", "a".repeat(250))).is_err());
    }

    proptest! {
        /// Whatever is typed, parsing answers (never panics), and what it
        /// accepts parses again to itself.
        #[test]
        fn parsing_is_total_and_stable(text in ".{0,80}") {
            if let Ok(address) = EmailAddress::parse(&text) {
                prop_assert_eq!(EmailAddress::parse(address.as_str()), Ok(address.clone()));
            }
        }
    }
}
