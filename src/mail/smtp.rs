//! SMTP delivery: lettre's protocol client over connections we open
//! ourselves with `TCP_NODELAY`, kept open between sends.
//!
//! lettre 0.11.23's own pooled transport leaves Nagle's algorithm on, so
//! each command waits ~40 ms for a delayed ACK (fixed upstream in lettre
//! PR #1159, not yet released). Opening the socket here and handing it to
//! `AsyncSmtpConnection::connect_with_transport` keeps lettre for the
//! protocol (EHLO, STARTTLS, AUTH, DATA) and drops the stall. Implicit TLS
//! (`smtps://`) is connected by lettre itself, as before.
//!
//! lettre also sends `MAIL`, `RCPT` and `DATA` one round trip at a time.
//! When the server advertises PIPELINING (RFC 2920; every mainstream relay
//! does), lettre's own commands are written together and their replies
//! read in order, as that RFC allows: two round trips per message instead
//! of four. Servers without it get lettre's own `send`.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use super::SendError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    None,
    StartTlsRequired,
    StartTlsOpportunistic,
    ImplicitTls,
}

/// Where and how to connect, read from `RAPPORT_SMTP_URL` by lettre's own
/// rules: `smtp://` (port 25), `smtp://…?tls=required|opportunistic` (587,
/// STARTTLS), `smtps://` (465); `user:password@`; a path names the EHLO host.
#[derive(Clone)]
pub struct Endpoint {
    host: String,
    port: u16,
    security: Security,
    hello: ClientId,
    credentials: Option<Credentials>,
    timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    // Never the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Endpoint({}:{}, {:?})", self.host, self.port, self.security)
    }
}

impl Endpoint {
    pub fn parse(text: &str, timeout: Duration) -> Result<Endpoint, String> {
        let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        let host = url.host_str().ok_or("no host")?.trim_matches(['[', ']']).to_string();
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.to_string());
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::None, 25),
            ("smtp", Some("required")) => (Security::StartTlsRequired, 587),
            ("smtp", Some("opportunistic")) => (Security::StartTlsOpportunistic, 587),
            ("smtps", _) => (Security::ImplicitTls, 465),
            (scheme, tls) => {
                return Err(format!(
                    "expected smtp:// (with ?tls=required or ?tls=opportunistic) or smtps://, got {scheme}:// with tls={}",
                    tls.unwrap_or_default()
                ));
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|e| format!("the user name or password is not UTF-8 ({e})"))
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        Ok(Endpoint {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            hello,
            credentials,
            timeout,
        })
    }

    fn tls(&self) -> Result<TlsParameters, SendError> {
        TlsParameters::new(self.host.clone()).map_err(|e| SendError::Transient(format!("TLS set-up: {e}")))
    }

    async fn connect(&self) -> Result<Connection, SendError> {
        let connecting = async {
            let mut conn = if self.security == Security::ImplicitTls {
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &self.hello,
                    Some(self.tls()?),
                    None,
                )
                .await
                .map_err(classify)?
            } else {
                let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(|e| SendError::Transient(format!("cannot connect to {}:{}: {e}", self.host, self.port)))?;
                stream
                    .set_nodelay(true)
                    .map_err(|e| SendError::Transient(format!("socket option: {e}")))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(classify)?
            };
            let starttls = match self.security {
                Security::StartTlsRequired => true,
                Security::StartTlsOpportunistic => conn.can_starttls(),
                Security::None | Security::ImplicitTls => false,
            };
            if starttls {
                conn.starttls(self.tls()?, &self.hello).await.map_err(classify)?;
            }
            // lettre keeps only the extensions it knows from its EHLO; ask
            // again (before AUTH, which some servers reset on EHLO) to learn
            // whether the server pipelines.
            let greeting = conn.command(Ehlo::new(self.hello.clone())).await.map_err(classify)?;
            let pipelining = greeting.message().any(|line| {
                line.split_whitespace()
                    .next()
                    .is_some_and(|w| w.eq_ignore_ascii_case("PIPELINING"))
            });
            if let Some(credentials) = &self.credentials {
                conn.auth(DEFAULT_MECHANISMS, credentials).await.map_err(classify)?;
            }
            Ok(Connection { smtp: conn, pipelining })
        };
        tokio::time::timeout(self.timeout, connecting).await.map_err(|_| {
            SendError::Transient(format!(
                "no answer from the SMTP server {}:{} within {} s",
                self.host,
                self.port,
                self.timeout.as_secs()
            ))
        })?
    }
}

/// An open SMTP connection and whether its server pipelines commands.
struct Connection {
    smtp: AsyncSmtpConnection,
    pipelining: bool,
}

/// lettre's commands written as one: `Display` is all `command` needs.
struct Pipelined(String);

impl std::fmt::Display for Pipelined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Connection {
    /// One message: `MAIL`, `RCPT`s and `DATA` in one write when the
    /// server pipelines, their replies read in order (any refusal ends the
    /// attempt, and the caller drops the connection); otherwise lettre's
    /// own `send`, which also refuses what the server cannot take
    /// (non-ASCII addresses without SMTPUTF8, 8-bit text without 8BITMIME).
    async fn send(&mut self, envelope: &Envelope, message: &[u8]) -> Result<(), lettre::transport::smtp::Error> {
        let ascii_addresses = envelope.from().is_none_or(|a| AsRef::<str>::as_ref(a).is_ascii())
            && envelope.to().iter().all(|a| AsRef::<str>::as_ref(a).is_ascii());
        let eight_bit = !message.is_ascii();
        let supported = !eight_bit || self.smtp.server_info().supports_feature(Extension::EightBitMime);
        if !(self.pipelining && ascii_addresses && supported) {
            return self.smtp.send(envelope, message).await.map(drop);
        }
        let parameters = if eight_bit {
            vec![MailParameter::Body(MailBodyParameter::EightBitMime)]
        } else {
            vec![]
        };
        let mut commands = Mail::new(envelope.from().cloned(), parameters).to_string();
        for to in envelope.to() {
            commands.push_str(&Rcpt::new(to.clone(), vec![]).to_string());
        }
        commands.push_str(&Data.to_string());
        self.smtp.command(Pipelined(commands)).await?;
        for _ in envelope.to() {
            self.smtp.read_response().await?;
        }
        self.smtp.read_response().await?;
        self.smtp.message(message).await.map(drop)
    }
}

/// Connections kept open between sends, each with when it was last used.
type Idle = std::sync::Mutex<Vec<(Connection, std::time::Instant)>>;

/// A pool of SMTP connections: at most `connections` sends in flight, and
/// the connections they used kept open for the next ones (closed after a
/// minute unused). A small pool of our own rather than a pool crate: bb8,
/// tried first, retries a refused connection inside its own timeout and so
/// hides the server's reason ("connection refused") behind "timed out" and
/// holds every send for the whole timeout.
pub struct SmtpPool {
    endpoint: Endpoint,
    slots: tokio::sync::Semaphore,
    idle: Idle,
}

/// How long an unused connection is kept (servers drop idle ones too).
const IDLE_FOR: Duration = Duration::from_secs(60);

impl SmtpPool {
    pub fn new(endpoint: Endpoint, connections: u32) -> SmtpPool {
        SmtpPool {
            endpoint,
            slots: tokio::sync::Semaphore::new(connections as usize),
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < IDLE_FOR && !conn.smtp.has_broken() {
                return Some(conn);
            }
        }
        None
    }

    fn put_back(&self, conn: Connection) {
        if !conn.smtp.has_broken() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push((conn, std::time::Instant::now()));
        }
    }

    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SendError::Transient("the SMTP pool is closed".into()))?;
        let (mut conn, reused) = match self.take_idle() {
            Some(conn) => (conn, true),
            None => (self.endpoint.connect().await?, false),
        };
        match self.send_on(&mut conn, envelope, message).await {
            Ok(()) => {
                self.put_back(conn);
                Ok(())
            }
            // The server may have closed a kept connection (no SMTP reply at
            // all): one more try on a new connection before it counts as a
            // failure. A reply such as 451 is never retried here.
            Err(Failure { error, replied: false }) if reused => {
                tracing::debug!(error = ?error, "SMTP connection lost; trying once on a new one");
                let mut fresh = self.endpoint.connect().await?;
                let result = self.send_on(&mut fresh, envelope, message).await;
                if result.is_ok() {
                    self.put_back(fresh);
                }
                result.map_err(|f| f.error)
            }
            Err(Failure { error, .. }) => Err(error),
        }
    }

    async fn send_on(&self, conn: &mut Connection, envelope: &Envelope, message: &[u8]) -> Result<(), Failure> {
        let sent = tokio::time::timeout(self.endpoint.timeout, conn.send(envelope, message)).await;
        let failure = match sent {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => Failure {
                replied: e.status().is_some(),
                error: classify(e),
            },
            Err(_) => Failure {
                replied: true, // a slow server is not retried at once
                error: SendError::Transient(format!(
                    "no answer from the SMTP server within {} s",
                    self.endpoint.timeout.as_secs()
                )),
            },
        };
        // After a refusal the server may still be mid-transaction, and
        // after a timeout the stream is in an unknown state: never reuse it.
        conn.smtp.abort().await;
        Err(failure)
    }
}

/// A failed send, and whether the server gave an SMTP reply at all.
struct Failure {
    error: SendError,
    replied: bool,
}

pub(super) fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let text = e.to_string();
    if e.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Endpoint, String> {
        Endpoint::parse(url, Duration::from_secs(5))
    }

    #[test]
    fn urls_follow_lettres_rules() {
        let e = parse("smtp://mail.example.org").unwrap();
        assert_eq!((e.port, e.security), (25, Security::None));
        let e = parse("smtp://u:p%40ss@mail.example.org?tls=required").unwrap();
        assert_eq!((e.port, e.security), (587, Security::StartTlsRequired));
        assert!(e.credentials.is_some());
        let e = parse("smtp://mail.example.org:2525?tls=opportunistic").unwrap();
        assert_eq!((e.port, e.security), (2525, Security::StartTlsOpportunistic));
        let e = parse("smtps://mail.example.org/clinic.example").unwrap();
        assert_eq!((e.port, e.security), (465, Security::ImplicitTls));
        assert_eq!(e.hello, ClientId::Domain("clinic.example".into()));
        assert!(parse("http://mail.example.org").unwrap_err().contains("smtp://"));
        assert!(parse("smtp://mail.example.org?tls=maybe").is_err());
        assert!(parse("not a url").is_err());
    }
}
