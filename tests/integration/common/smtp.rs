//! A small SMTP server for tests: speaks enough of RFC 5321 over real TCP
//! for lettre's client, and can refuse with 451 or 550 on demand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 451: try again later.
    Transient,
    /// 550: mailbox unavailable.
    Permanent,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<ReceivedMail>>,
    /// Refuse this many messages (at DATA's end) before accepting.
    refuse_next: AtomicUsize,
    refusal: Mutex<Option<Refusal>>,
    refused: AtomicUsize,
    connections: AtomicUsize,
    /// Recipients refused at RCPT TO with 550 (a mailbox that does not exist).
    unknown_recipients: Mutex<Vec<String>>,
    /// Hold the reply to this many messages (at DATA's end) for `hold_for`;
    /// a message whose client hangs up meanwhile is not accepted.
    hold_next: AtomicUsize,
    hold_for: Mutex<std::time::Duration>,
    /// Messages whose reply is being held right now.
    holding: AtomicUsize,
    /// Every RCPT TO seen, accepted or not, in order.
    attempts: Mutex<Vec<String>>,
    /// Leave PIPELINING out of the EHLO reply (a server that does not
    /// pipeline gets one command at a time).
    no_pipelining: std::sync::atomic::AtomicBool,
    /// MAIL FROM commands whose RCPT TO had arrived with them.
    pipelined: AtomicUsize,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    shared: Arc<Shared>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let accept_shared = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accept_shared.connections.fetch_add(1, Ordering::SeqCst);
                let shared = accept_shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, shared).await;
                });
            }
        });
        SmtpServer { port, shared }
    }

    /// Stop advertising PIPELINING to new connections.
    pub fn without_pipelining(&self) {
        self.shared.no_pipelining.store(true, Ordering::SeqCst);
    }

    /// Messages whose commands the client sent pipelined.
    pub fn pipelined(&self) -> usize {
        self.shared.pipelined.load(Ordering::SeqCst)
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Refuse the next `n` messages with the given reply, then accept.
    pub fn refuse(&self, n: usize, refusal: Refusal) {
        *self.shared.refusal.lock().unwrap() = Some(refusal);
        self.shared.refuse_next.store(n, Ordering::SeqCst);
    }

    /// Answer 550 at RCPT TO for this address from now on.
    pub fn refuse_recipient(&self, address: &str) {
        self.shared.unknown_recipients.lock().unwrap().push(address.to_string());
    }

    /// Keep the next `n` messages waiting for their final reply for `wait`
    /// (as a slow server would); one whose client disconnects meanwhile is
    /// dropped, as a real server drops an unacknowledged message.
    pub fn hold(&self, n: usize, wait: std::time::Duration) {
        *self.shared.hold_for.lock().unwrap() = wait;
        self.shared.hold_next.store(n, Ordering::SeqCst);
    }

    /// Messages whose final reply is being held at this moment.
    pub fn holding(&self) -> usize {
        self.shared.holding.load(Ordering::SeqCst)
    }

    /// How many times delivery to `address` was tried (RCPT TO seen).
    pub fn attempts_for(&self, address: &str) -> usize {
        self.shared
            .attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.as_str() == address)
            .count()
    }

    /// Accepted messages addressed to `address`.
    pub fn received_by(&self, address: &str) -> Vec<ReceivedMail> {
        self.received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

fn address(arg: &str) -> String {
    arg.split_once(':')
        .map(|(_, a)| {
            a.trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}

async fn session(stream: tokio::net::TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    // Replies are small writes: without this, Nagle's algorithm and delayed
    // ACKs would add ~40 ms to every exchange.
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 test.invalid ESMTP test server\r\n").await?;
    let mut from = String::new();
    let mut to = vec![];
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            if shared.no_pipelining.load(Ordering::SeqCst) {
                write
                    .write_all(b"250-test.invalid\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?;
            } else {
                write
                    .write_all(b"250-test.invalid\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?;
            }
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 test.invalid\r\n").await?;
        } else if upper.starts_with("MAIL FROM") {
            from = address(&command);
            to.clear();
            if reader.buffer().to_ascii_uppercase().starts_with(b"RCPT TO") {
                shared.pipelined.fetch_add(1, Ordering::SeqCst);
            }
            write.write_all(b"250 2.1.0 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO") {
            let rcpt = address(&command);
            shared.attempts.lock().unwrap().push(rcpt.clone());
            if shared.unknown_recipients.lock().unwrap().contains(&rcpt) {
                shared.refused.fetch_add(1, Ordering::SeqCst);
                write
                    .write_all(b"550 5.1.1 Mailbox unavailable: no such user here\r\n")
                    .await?;
            } else {
                to.push(rcpt);
                write.write_all(b"250 2.1.5 OK\r\n").await?;
            }
        } else if upper == "DATA" && to.is_empty() {
            // RFC 2920: a pipelining client sends DATA before it knows
            // whether any recipient was accepted.
            write.write_all(b"554 5.5.1 No valid recipients\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).await? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                let l = l.strip_prefix('.').map(str::to_string).unwrap_or(l);
                data.extend_from_slice(l.as_bytes());
            }
            let refuse = shared
                .refuse_next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let hold = shared
                .hold_next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if hold {
                let wait = *shared.hold_for.lock().unwrap();
                shared.holding.fetch_add(1, Ordering::SeqCst);
                let mut extra = String::new();
                let hung_up = tokio::select! {
                    _ = tokio::time::sleep(wait) => false,
                    read = reader.read_line(&mut extra) => matches!(read, Ok(0) | Err(_)),
                };
                shared.holding.fetch_sub(1, Ordering::SeqCst);
                if hung_up {
                    return Ok(());
                }
            }
            if refuse {
                shared.refused.fetch_add(1, Ordering::SeqCst);
                let refusal = *shared.refusal.lock().unwrap();
                match refusal {
                    Some(Refusal::Permanent) => {
                        write
                            .write_all(b"550 5.1.1 Mailbox unavailable: no such user here\r\n")
                            .await?
                    }
                    _ => {
                        write
                            .write_all(b"451 4.3.0 Temporarily unable to accept, try again later\r\n")
                            .await?
                    }
                }
            } else {
                shared.received.lock().unwrap().push(ReceivedMail {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
                write.write_all(b"250 2.0.0 OK queued\r\n").await?;
            }
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            write.write_all(b"250 2.0.0 OK\r\n").await?;
        } else if upper == "NOOP" {
            write.write_all(b"250 2.0.0 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 5.5.2 Command not recognised\r\n").await?;
        }
    }
}
