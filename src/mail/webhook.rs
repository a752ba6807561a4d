//! Sending webhook events: an HTTPS POST of the queued JSON body, signed so
//! the receiver can tell it came from this Rapport and was not replayed.
//!
//! `Rapport-Signature: t=UNIX_SECONDS,v1=HEX` where HEX is
//! HMAC-SHA256(secret, "UNIX_SECONDS.BODY"). Receivers recompute it over
//! the raw body, compare in constant time and reject old timestamps (five
//! minutes is a sensible tolerance).

use std::sync::OnceLock;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::SendError;

/// The whole request (connect, send, answer) must finish within this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One delivery attempt's inputs.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: String,
    pub secret: String,
    pub event: String,
    /// The outbox row's stable id, sent as `Rapport-Delivery`.
    pub delivery_id: String,
    pub body: String,
    /// The clinic allows receivers on private networks.
    pub allow_private: bool,
}

/// Resolves the endpoint's host and checks every address it leads to
/// (see [`crate::domain::network`]). Returns the host and the addresses to
/// connect to, so the request goes where the check looked (a name that
/// resolves differently a moment later cannot slip past it).
pub async fn resolve_target(url: &str, allow_private: bool) -> Result<(String, Vec<std::net::SocketAddr>), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("the address cannot be read ({e})"))?;
    let host = parsed.host_str().ok_or("the address has no host")?.to_string();
    let port = parsed.port_or_known_default().ok_or("the address has no port")?;
    let lookup = host.trim_matches(['[', ']']).to_string();
    let addresses: Vec<std::net::SocketAddr> =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((lookup.as_str(), port)))
            .await
            .map_err(|_| format!("the name {host} did not resolve within 5 s"))?
            .map_err(|e| format!("the name {host} does not resolve ({e})"))?
            .collect();
    check_addresses(&host, addresses.iter().map(|a| a.ip()), allow_private)?;
    Ok((host, addresses))
}

/// Refuses a target when any of its addresses may not be used.
pub fn check_addresses(
    host: &str,
    addresses: impl IntoIterator<Item = std::net::IpAddr>,
    allow_private: bool,
) -> Result<(), String> {
    let mut any = false;
    for ip in addresses {
        any = true;
        if let Some(why) = crate::domain::network::refusal(ip, allow_private) {
            return Err(format!("{host} cannot be used: {why}"));
        }
    }
    if any {
        Ok(())
    } else {
        Err(format!("the name {host} has no address"))
    }
}

/// The `Rapport-Signature` header value for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// One HTTP client for all deliveries: redirects are not followed (a moved
/// endpoint must be reconfigured, not guessed), and every request is bounded.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        builder()
            .build()
            .expect("the webhook HTTP client builds with static settings")
    })
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Rapport-Webhooks/", env!("CARGO_PKG_VERSION")))
}

/// Sorts an endpoint's answer: 2xx delivered; 408, 429 and 5xx worth
/// retrying; any other status refused for good.
pub fn classify(status: u16, reason: &str) -> Result<(), SendError> {
    let answered = format!("the endpoint answered {status} {reason}")
        .trim_end()
        .to_string();
    match status {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(SendError::Transient(answered)),
        300..=399 => Err(SendError::Permanent(format!(
            "{answered} (a redirect; configure the final address)"
        ))),
        _ => Err(SendError::Permanent(answered)),
    }
}

/// POSTs one event, signed with the current time.
pub async fn post(delivery: &Delivery, unix_now: i64) -> Result<(), SendError> {
    // Checked again at every delivery: DNS may have changed since the
    // endpoint was added. A refused address is a permanent failure.
    let (host, addresses) = resolve_target(&delivery.url, delivery.allow_private)
        .await
        .map_err(SendError::Permanent)?;
    let pinned;
    let client = if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        client()
    } else {
        pinned = builder()
            .resolve_to_addrs(&host, &addresses)
            .build()
            .map_err(|e| SendError::Transient(format!("HTTP client: {e}")))?;
        &pinned
    };
    let response = client
        .post(&delivery.url)
        .header("Content-Type", "application/json")
        .header("Rapport-Event", &delivery.event)
        .header("Rapport-Delivery", &delivery.delivery_id)
        .header(
            "Rapport-Signature",
            signature(&delivery.secret, unix_now, &delivery.body),
        )
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| {
            let e = e.without_url();
            if e.is_timeout() {
                SendError::Transient(format!("no answer from the endpoint within {} s", TIMEOUT.as_secs()))
            } else {
                SendError::Transient(format!("could not reach the endpoint: {e}"))
            }
        })?;
    let status = response.status();
    classify(status.as_u16(), status.canonical_reason().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Reference value computed independently:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{\"a\":1}"),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn statuses_sort_into_sent_retry_and_failed() {
        assert!(classify(204, "No Content").is_ok());
        assert!(matches!(
            classify(500, "Internal Server Error"),
            Err(SendError::Transient(_))
        ));
        assert!(matches!(
            classify(429, "Too Many Requests"),
            Err(SendError::Transient(_))
        ));
        assert!(matches!(classify(408, "Request Timeout"), Err(SendError::Transient(_))));
        assert!(matches!(classify(410, "Gone"), Err(SendError::Permanent(m)) if m.contains("410 Gone")));
        assert!(matches!(classify(301, "Moved Permanently"), Err(SendError::Permanent(m)) if m.contains("redirect")));
    }
}
