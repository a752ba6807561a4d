//! DKIM signing (RFC 6376) of the exact bytes that are sent: relaxed/relaxed
//! canonicalization, `rsa-sha256`, or `ed25519-sha256` (RFC 8463).
//!
//! Not lettre's signer: its default canonicalization of headers is `simple`
//! (byte for byte), and it folds the DKIM-Signature header again after
//! filling in `b=`, so the 344-character signature goes onto a line of its
//! own that was not there when the header was hashed — no verifier accepts
//! it. It also cannot sign the top-level `Content-Type`, which lettre keeps
//! on the MIME part rather than among the message's headers. Signing the
//! formatted message avoids both.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};

/// Headers signed when the message has them, in this order: the ones
/// RFC 6376 §5.4.1 recommends, the MIME headers, and the one-click
/// unsubscribe pair RFC 8058 §4 requires to be signed.
pub const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

enum Key {
    Rsa(Box<RsaPrivateKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// A signing domain, its selector and private key.
pub struct Dkim {
    domain: String,
    selector: String,
    key: Key,
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dkim(d={}, s={}, ..)", self.domain, self.selector)
    }
}

impl Dkim {
    /// `key` is an RSA private key in PEM (PKCS#1 `BEGIN RSA PRIVATE KEY` or
    /// PKCS#8 `BEGIN PRIVATE KEY`), or a base64 Ed25519 seed of 32 bytes.
    pub fn new(domain: &str, selector: &str, key: &str) -> Result<Dkim, String> {
        let bad = |value: &str| {
            value.is_empty()
                || !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        };
        if bad(domain) {
            return Err(format!("the DKIM domain \"{domain}\" is not a domain name"));
        }
        if bad(selector) {
            return Err(format!("the DKIM selector \"{selector}\" is not a DNS label"));
        }
        let key = if let Ok(k) = RsaPrivateKey::from_pkcs1_pem(key) {
            Key::Rsa(Box::new(k))
        } else if let Ok(k) = RsaPrivateKey::from_pkcs8_pem(key) {
            Key::Rsa(Box::new(k))
        } else {
            let seed: [u8; 32] = STANDARD
                .decode(key.trim())
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(
                    "neither an RSA key in PEM (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY) nor a base64 Ed25519 key",
                )?;
            Key::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)))
        };
        let dkim = Dkim {
            domain: domain.to_string(),
            selector: selector.to_string(),
            key,
        };
        // A key too small for a SHA-256 digest fails here, not at the first send.
        dkim.sign_at(b"From: a@b.example\r\n\r\n", 0)?;
        Ok(dkim)
    }

    /// The message with a DKIM-Signature header in front.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.sign_at(message, now)
    }

    fn sign_at(&self, message: &[u8], timestamp: u64) -> Result<Vec<u8>, String> {
        let (fields, body) = split(message);
        let body_hash = STANDARD.encode(Sha256::digest(relaxed_body(body)));
        let mut names = vec![];
        let mut hashed = vec![];
        for name in SIGNED_HEADERS {
            // The last instance is the one a verifier takes first (§5.4.2).
            if let Some(field) = fields
                .iter()
                .rev()
                .find(|f| field_name(f).eq_ignore_ascii_case(name.as_bytes()))
            {
                names.push(name.to_ascii_lowercase());
                hashed.extend(relaxed_header(field));
            }
        }
        let algorithm = match self.key {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        };
        let unsigned = folded(&[
            "v=1".to_string(),
            format!("a={algorithm}"),
            "c=relaxed/relaxed".to_string(),
            format!("d={}", self.domain),
            format!("s={}", self.selector),
            format!("t={timestamp}"),
            format!("h={}", names.join(":")),
            format!("bh={body_hash}"),
            "b=".to_string(),
        ]);
        // The signature header itself, with b= empty and no final CRLF (§3.7).
        let own = relaxed_header(unsigned.as_bytes());
        hashed.extend_from_slice(&own[..own.len() - 2]);
        let digest = Sha256::digest(&hashed);
        let signature = match &self.key {
            Key::Rsa(key) => key
                .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
                .map_err(|e| format!("the DKIM key cannot sign: {e}"))?,
            Key::Ed25519(key) => key.sign(&digest).to_bytes().to_vec(),
        };
        let signature = STANDARD.encode(signature);
        let mut out = Vec::with_capacity(unsigned.len() + signature.len() + message.len() + 16);
        out.extend_from_slice(unsigned.as_bytes());
        for chunk in signature.as_bytes().chunks(72) {
            out.extend_from_slice(b"\r\n ");
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(message);
        Ok(out)
    }
}

/// `DKIM-Signature:` and the tags, folded so no line passes 78 characters:
/// before a tag, or after a `:` in the `h=` list (§3.5 allows both).
fn folded(tags: &[String]) -> String {
    // Each word, and whether it follows the previous one without a space.
    let mut words: Vec<(String, bool)> = vec![];
    for (i, tag) in tags.iter().enumerate() {
        let tag = if i + 1 < tags.len() {
            format!("{tag};")
        } else {
            tag.clone()
        };
        for (j, piece) in tag.split_inclusive(':').enumerate() {
            words.push((piece.to_string(), j > 0));
        }
    }
    let mut out = String::from("DKIM-Signature:");
    let mut line = out.len();
    for (word, glued) in words {
        let space = usize::from(!glued);
        if line + space + word.len() > 78 {
            out.push_str("\r\n ");
            line = 1;
        } else if !glued {
            out.push(' ');
            line += 1;
        }
        out.push_str(&word);
        line += word.len();
    }
    out
}

/// The header fields (each with its continuation lines, without the final
/// CRLF) and the body after the blank line.
fn split(message: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut fields: Vec<(usize, usize)> = vec![];
    let mut pos = 0;
    while pos < message.len() {
        let end = find_crlf(&message[pos..]).map_or(message.len(), |i| pos + i);
        let next = (end + 2).min(message.len());
        if end == pos {
            return (fields.iter().map(|&(s, e)| &message[s..e]).collect(), &message[next..]);
        }
        match fields.last_mut() {
            Some(last) if matches!(message[pos], b' ' | b'\t') => last.1 = end,
            _ => fields.push((pos, end)),
        }
        pos = next;
    }
    (fields.iter().map(|&(s, e)| &message[s..e]).collect(), &[])
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

fn field_name(field: &[u8]) -> &[u8] {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    field[..colon].trim_ascii()
}

/// Relaxed header canonicalization (§3.4.2): name in lower case, value
/// unfolded, runs of whitespace as one space, none around the colon or at
/// the end; ends with CRLF.
fn relaxed_header(field: &[u8]) -> Vec<u8> {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let mut out = field_name(field).to_ascii_lowercase();
    out.push(b':');
    let start = out.len();
    let mut space = false;
    for &b in field.get(colon + 1..).unwrap_or_default() {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => space = true,
            _ => {
                if space && out.len() > start {
                    out.push(b' ');
                }
                space = false;
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Relaxed body canonicalization (§3.4.4): runs of whitespace as one space,
/// none at a line's end, no empty lines at the end, a final CRLF unless the
/// body is empty.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = vec![];
    let mut rest = body;
    while !rest.is_empty() {
        let end = find_crlf(rest).unwrap_or(rest.len());
        let mut line = Vec::with_capacity(end);
        let mut space = false;
        for &b in &rest[..end] {
            if matches!(b, b' ' | b'\t') {
                space = true;
            } else {
                if space {
                    line.push(b' ');
                }
                space = false;
                line.push(b);
            }
        }
        lines.push(line);
        rest = rest.get(end + 2..).unwrap_or_default();
    }
    while lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    let mut out = Vec::with_capacity(body.len());
    for line in lines {
        out.extend_from_slice(&line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use rsa::RsaPublicKey;

    use super::*;

    const TEST_KEY: &str = include_str!("../../tests/fixtures/dkim-test-only.pem");

    const MESSAGE: &[u8] = b"From: Clinic <feedback@clinic.example>\r\n\
To: client@example.org\r\n\
Subject: Two minutes of feedback\r\n\
Date: Mon, 02 Mar 2026 11:00:00 +0000\r\n\
Message-ID: <1.rapport@clinic.example>\r\n\
List-Unsubscribe: <https://clinic.example/u/AAAA>\r\n\
List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n\
\r\n\
--b1\r\nContent-Type: text/plain\r\n\r\nHello  there \r\n--b1--\r\n\r\n";

    /// Verifies as a receiver would: finds the signature, removes b='s
    /// value from the header as sent, and recomputes both hashes.
    fn verify(signed: &[u8], check: impl Fn(&[u8], &[u8]) -> bool) -> Result<(), String> {
        let (fields, body) = split(signed);
        let sig = fields
            .iter()
            .find(|f| field_name(f).eq_ignore_ascii_case(b"DKIM-Signature"))
            .ok_or("no signature")?;
        let text = String::from_utf8(relaxed_header(sig)).unwrap();
        let value = text.trim_end().strip_prefix("dkim-signature:").unwrap();
        let tag = |name: &str| {
            value
                .split(';')
                .map(str::trim)
                .find_map(|t| t.strip_prefix(&format!("{name}=")))
                .map(|v| v.replace(' ', ""))
                .unwrap_or_default()
        };
        if tag("bh") != STANDARD.encode(Sha256::digest(relaxed_body(body))) {
            return Err("body hash".into());
        }
        let mut hashed = vec![];
        let mut taken: Vec<&[u8]> = vec![];
        for name in tag("h").split(':') {
            if let Some(f) = fields
                .iter()
                .rev()
                .find(|f| field_name(f).eq_ignore_ascii_case(name.as_bytes()) && !taken.contains(f))
            {
                taken.push(f);
                hashed.extend(relaxed_header(f));
            }
        }
        let b_at = sig.windows(3).position(|w| w == b" b=" || w == b";b=").unwrap() + 3;
        let own = relaxed_header(&sig[..b_at]);
        hashed.extend_from_slice(&own[..own.len() - 2]);
        let signature = STANDARD.decode(tag("b")).map_err(|e| e.to_string())?;
        if check(&Sha256::digest(&hashed), &signature) {
            Ok(())
        } else {
            Err("signature".into())
        }
    }

    fn rsa_check(signed: &[u8]) -> Result<(), String> {
        let public = RsaPublicKey::from(RsaPrivateKey::from_pkcs1_pem(TEST_KEY).unwrap());
        verify(signed, |digest, sig| {
            public.verify(Pkcs1v15Sign::new::<Sha256>(), digest, sig).is_ok()
        })
    }

    #[test]
    fn canonicalization_follows_the_rfc_example() {
        // RFC 6376 §3.4.5.
        let (fields, body) = split(b"A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n");
        let headers: Vec<u8> = fields.iter().flat_map(|f| relaxed_header(f)).collect();
        assert_eq!(headers, b"a:X\r\nb:Y Z\r\n");
        assert_eq!(relaxed_body(body), b" C\r\nD E\r\n");
        assert_eq!(relaxed_body(b""), b"");
        assert_eq!(relaxed_body(b"\r\n\r\n"), b"");
        assert_eq!(relaxed_body(b"no final newline"), b"no final newline\r\n");
    }

    #[test]
    fn signs_the_listed_headers_and_verifies() {
        let dkim = Dkim::new("clinic.example", "rapport2026", TEST_KEY).unwrap();
        let signed = dkim.sign_at(MESSAGE, 1_772_449_200).unwrap();
        assert!(signed.ends_with(MESSAGE));
        let text = String::from_utf8(signed.clone()).unwrap();
        let header: String = text.split("\r\nFrom:").next().unwrap().into();
        assert!(header.lines().all(|l| l.len() <= 78), "{header}");
        for tag in [
            "a=rsa-sha256",
            "c=relaxed/relaxed",
            "d=clinic.example",
            "s=rapport2026",
            "t=1772449200",
        ] {
            assert!(header.contains(tag), "{tag} in {header}");
        }
        let h = header.replace("\r\n ", "");
        assert!(
            h.contains(
                "h=from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe:list-unsubscribe-post;"
            ),
            "{h}"
        );
        rsa_check(&signed).unwrap();
    }

    #[test]
    fn a_changed_header_or_body_fails_verification() {
        let dkim = Dkim::new("clinic.example", "rapport2026", TEST_KEY).unwrap();
        let signed = dkim.sign_at(MESSAGE, 0).unwrap();
        let text = String::from_utf8(signed).unwrap();
        for (from, to) in [
            ("<https://clinic.example/u/AAAA>", "<https://evil.example/u/AAAA>"),
            ("Two minutes", "Five minutes"),
            ("Hello", "Hullo"),
        ] {
            assert!(rsa_check(text.replacen(from, to, 1).as_bytes()).is_err(), "{from}");
        }
        // Whitespace and folding changes that relaxed canonicalization allows.
        let refolded = text
            .replacen("Subject: Two minutes", "Subject:  Two\r\n  minutes", 1)
            .replacen("Hello  there ", "Hello there", 1);
        rsa_check(refolded.as_bytes()).unwrap();
    }

    #[test]
    fn ed25519_keys_sign_too() {
        let seed = [7u8; 32];
        let dkim = Dkim::new("clinic.example", "ed", &STANDARD.encode(seed)).unwrap();
        let signed = dkim.sign_at(MESSAGE, 0).unwrap();
        assert!(String::from_utf8_lossy(&signed).contains("a=ed25519-sha256"));
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        verify(&signed, |digest, sig| {
            let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
                return false;
            };
            public.verify_strict(digest, &sig).is_ok()
        })
        .unwrap();
    }

    #[test]
    fn bad_keys_and_names_are_refused() {
        assert!(Dkim::new("clinic.example", "s1", "not a key").is_err());
        assert!(Dkim::new("clinic example", "s1", TEST_KEY).is_err());
        assert!(Dkim::new("clinic.example", "s;1", TEST_KEY).is_err());
    }
}
