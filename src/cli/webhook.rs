//! `rapport webhook add|list|disable`.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::actions::{Actor, integrations};
use crate::clock::{Clock, SystemClock};
use crate::security::Sealer;
use crate::store::{self, StoreError, kv, webhooks};

use super::{fail, load_settings};

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint; its signing secret is printed once.
    Add {
        /// Where events are POSTed (http or https).
        #[arg(long)]
        url: String,
        /// alert.opened, alert.changed, response.received (comma-separated), or all.
        #[arg(long, default_value = "all")]
        events: String,
    },
    /// List endpoints (never their secrets).
    List,
    /// Stop sending to an endpoint.
    Disable { id: i64 },
}

/// The same address check as the admin page's, resolved here.
fn target_allowed(url: &str, allow_private: bool) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| format!("the name {host} does not resolve ({e})"))?;
    crate::mail::webhook::check_addresses(&host, addresses.map(|a| a.ip()), allow_private)
}

pub fn run(config: Option<&Path>, command: WebhookCommand) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut conn = match store::establish(&settings.database_url).and_then(|mut c| {
        store::run_migrations(&mut c)?;
        Ok(c)
    }) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let now = SystemClock.now();
    match command {
        WebhookCommand::Add { url, events } => {
            let checked = webhooks::check_url(&url).and_then(|url| {
                let allow_private = kv::flag(&mut conn, webhooks::ALLOW_PRIVATE_NETWORKS).map_err(|e| e.to_string())?;
                target_allowed(&url, allow_private)
            });
            if let Err(e) = checked {
                return fail(format!("--url: {e}"));
            }
            let events = match webhooks::parse_events(&events) {
                Ok(e) => e,
                Err(e) => return fail(format!("--events: {e}")),
            };
            // The same key the server seals with (see app::prepare).
            let secret_key = match crate::server_key::load(&settings, &mut conn, now) {
                Ok(k) => k,
                Err(e) => return fail(e),
            };
            let added = integrations::add_webhook(
                &mut conn,
                Actor::CommandLine,
                &url,
                &events,
                &Sealer::new(&secret_key),
                now,
            );
            match added {
                Ok((endpoint, secret)) => {
                    println!("{secret}");
                    eprintln!(
                        "Webhook endpoint #{} ({}) added for {}. The signing secret is shown only now.",
                        endpoint.id, endpoint.url, endpoint.events
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        WebhookCommand::List => match webhooks::list(&mut conn) {
            Ok(endpoints) => {
                for e in endpoints {
                    println!(
                        "#{:<4} {:<50} {:<50}{}",
                        e.id,
                        e.url,
                        e.events,
                        if e.active { "" } else { "  (disabled)" }
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        WebhookCommand::Disable { id } => match integrations::disable_webhook(&mut conn, Actor::CommandLine, id, now) {
            Ok(true) => {
                println!("Webhook endpoint #{id} disabled.");
                ExitCode::SUCCESS
            }
            Ok(false) => fail(format!("webhook endpoint #{id} is already disabled")),
            Err(StoreError::NotFound) => fail(format!("there is no webhook endpoint #{id}")),
            Err(e) => fail(e),
        },
    }
}
