//! Settings: embedded defaults, overridden by an optional TOML file,
//! overridden by `RAPPORT_*` environment variables. Every value is checked
//! here, once, so a bad one stops start-up with a sentence naming it.
//!
//! May import `domain` and `i18n` only.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use chrono_tz::Tz;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting}: {message}")]
    Invalid { setting: String, message: String },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
}

fn invalid(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_string(),
        message: message.into(),
    }
}

pub use crate::domain::schedule::QuietHours;

/// Parses `21:00-08:00`, or `off` for none.
pub fn parse_quiet_hours(s: &str) -> Result<Option<QuietHours>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") || s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let wrong = || format!("expected HH:MM-HH:MM such as 21:00-08:00, or off; got \"{s}\"");
    let (a, b) = s.split_once('-').ok_or_else(wrong)?;
    let parse = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| wrong());
    let (start, end) = (parse(a)?, parse(b)?);
    if start == end {
        return Err(format!(
            "quiet hours start and end are the same ({s}); use off for none"
        ));
    }
    Ok(Some(QuietHours { start, end }))
}

pub fn quiet_hours_setting(q: Option<QuietHours>) -> String {
    match q {
        None => "off".to_string(),
        Some(q) => format!("{}-{}", q.start.format("%H:%M"), q.end.format("%H:%M")),
    }
}

/// How mail leaves Rapport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// Write each message as an `.eml` file into a folder (the embedded default).
    Folder(PathBuf),
    /// SMTP in lettre's URL form: smtp://, smtp://…?tls=required, smtps://.
    Smtp(String),
}

/// DKIM signing, when a key is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimSettings {
    pub key_file: PathBuf,
    pub selector: String,
    pub domain: String,
}

/// The clinic's name until `RAPPORT_CLINIC_NAME` is set.
pub const DEFAULT_CLINIC_NAME: &str = "Your clinic";

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub db_pool_size: u32,
    pub bind: SocketAddr,
    pub base_url: url::Url,
    pub clinic_name: String,
    pub time_zone: Tz,
    /// A new client's language when none is given.
    pub default_language: String,
    pub client_numerals: crate::i18n::Numerals,
    pub mail: MailTransport,
    pub mail_from: lettre::message::Mailbox,
    pub smtp_timeout_seconds: u64,
    pub dkim: Option<DkimSettings>,
    pub secret_key: Option<String>,
    pub secret_key_file: Option<PathBuf>,
    pub invite_delay_minutes: i64,
    pub quiet_hours: Option<QuietHours>,
    pub reminder_after_hours: i64,
    pub expiry_days: i64,
    pub job_interval_seconds: u64,
    pub log_format: LogFormat,
    /// The log filter (`RAPPORT_LOG`), checked at start-up.
    pub log_filter: String,
    /// Client addresses come from X-Forwarded-For (set by a reverse proxy).
    pub trust_proxy: bool,
    /// Days identifying data is kept after a client's last appointment;
    /// None keeps it until erased by hand.
    pub retention_days: Option<i64>,
    /// Started with `serve --demo`: the sign-in page lists the demo logins.
    /// Never from the environment.
    pub demo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One setting: its name without the prefix, default and meaning. The
/// README's configuration table is this list.
pub struct SettingDoc {
    pub name: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

pub const SETTINGS: &[SettingDoc] = &[
    SettingDoc {
        name: "DATABASE_URL",
        default: "sqlite://rapport.db",
        meaning: "sqlite://PATH (created if missing) or postgres://user@host:port/db; falls back to DATABASE_URL",
    },
    SettingDoc {
        name: "DB_POOL_SIZE",
        default: "8",
        meaning: "database connections per process",
    },
    SettingDoc {
        name: "BIND",
        default: "127.0.0.1:8080",
        meaning: "address and port the web server listens on",
    },
    SettingDoc {
        name: "BASE_URL",
        default: "http://localhost:8080",
        meaning: "public address used in every link Rapport emails; https turns on Secure cookies",
    },
    SettingDoc {
        name: "CLINIC_NAME",
        default: "Your clinic",
        meaning: "shown to clients on pages and in emails",
    },
    SettingDoc {
        name: "TIME_ZONE",
        default: "Europe/London",
        meaning: "clinic time zone (IANA name); clients may have their own",
    },
    SettingDoc {
        name: "DEFAULT_LANGUAGE",
        default: "en",
        meaning: "language of a new client when the practice system, CSV or form gives none (BCP 47 tag; pages and emails ship in en, cy, pl, es, ar, ur)",
    },
    SettingDoc {
        name: "CLIENT_NUMERALS",
        default: "western",
        meaning: "digits clients read numbers in: western (0-9) or native (the language's own, such as Arabic-Indic)",
    },
    SettingDoc {
        name: "SMTP_URL",
        default: "(unset: write .eml files)",
        meaning: "smtp://host:port, smtp://user:pass@host:587?tls=required, smtps://host:465",
    },
    SettingDoc {
        name: "OUTBOX_DIR",
        default: "./outbox",
        meaning: "folder for .eml files when SMTP_URL is unset",
    },
    SettingDoc {
        name: "MAIL_FROM",
        default: "Rapport <no-reply@localhost>",
        meaning: "sender of every email",
    },
    SettingDoc {
        name: "SMTP_TIMEOUT_SECONDS",
        default: "30",
        meaning: "limit for one whole SMTP send",
    },
    SettingDoc {
        name: "DKIM_KEY_FILE",
        default: "(unset: no DKIM)",
        meaning: "RSA private key in PEM (PKCS#1 or PKCS#8) or base64 Ed25519 key to DKIM-sign mail (relaxed/relaxed); needs DKIM_SELECTOR and DKIM_DOMAIN",
    },
    SettingDoc {
        name: "DKIM_SELECTOR",
        default: "(unset)",
        meaning: "DKIM selector",
    },
    SettingDoc {
        name: "DKIM_DOMAIN",
        default: "(unset)",
        meaning: "DKIM signing domain",
    },
    SettingDoc {
        name: "SECRET_KEY",
        default: "(read from the key file)",
        meaning: "at least 64 characters; signs staff cookies and seals queued links and webhook secrets. Set it (the same on every instance) when instances on several machines share a PostgreSQL database",
    },
    SettingDoc {
        name: "SECRET_KEY_FILE",
        default: "beside the SQLite file (rapport.db → rapport.key); ./rapport.key for PostgreSQL",
        meaning: "where the server key is kept when RAPPORT_SECRET_KEY is not set; created with mode 0600 on first start. Back it up apart from the database: a copy of the database alone opens nothing",
    },
    SettingDoc {
        name: "INVITE_DELAY_MINUTES",
        default: "60",
        meaning: "time after an attended appointment ends before the questionnaire is sent",
    },
    SettingDoc {
        name: "QUIET_HOURS",
        default: "21:00-08:00",
        meaning: "no client email in these hours (client's time zone); off for none",
    },
    SettingDoc {
        name: "REMINDER_AFTER_HOURS",
        default: "48",
        meaning: "one reminder if unanswered after this long",
    },
    SettingDoc {
        name: "EXPIRY_DAYS",
        default: "4",
        meaning: "a link stops accepting answers after this many days",
    },
    SettingDoc {
        name: "JOB_INTERVAL_SECONDS",
        default: "15",
        meaning: "how often the job loop looks for due work",
    },
    SettingDoc {
        name: "LOG_FORMAT",
        default: "text",
        meaning: "text or json",
    },
    SettingDoc {
        name: "LOG",
        default: "info",
        meaning: "which log lines to write, as a tracing filter: error, warn, info, debug, or per module such as rapport=debug,actix_web=warn",
    },
    SettingDoc {
        name: "TRUST_PROXY",
        default: "off",
        meaning: "on when Rapport runs behind a reverse proxy that sets X-Forwarded-For: sign-in limits then count per client address from that header, not per proxy",
    },
    SettingDoc {
        name: "RETENTION_DAYS",
        default: "off",
        meaning: "erase a client's identifying data and free text this many days (30 or more) after their last appointment, keeping anonymous scores; off keeps it; a period set on Admin → Privacy wins",
    },
];

/// Parses `RAPPORT_RETENTION_DAYS`: `off`, or a number of days from 30.
pub fn parse_retention_days(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if (30..=36_500).contains(&n) => Ok(Some(n)),
        Ok(n) => Err(format!("must be off or between 30 and 36500 days, got {n}")),
        Err(_) => Err(format!("expected a number of days such as 730, or off; got \"{text}\"")),
    }
}

/// Raw values by setting name (without prefix), before checking.
pub type RawSettings = BTreeMap<String, String>;

impl Settings {
    /// Reads the optional file, then the environment, and checks every value.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut raw = RawSettings::new();
        if let Some(path) = config_file {
            raw.extend(read_file(path)?);
        }
        raw.extend(read_env(std::env::vars()));
        Settings::from_raw(&raw)
    }

    /// Checks raw values, filling in defaults.
    pub fn from_raw(raw: &RawSettings) -> Result<Settings, ConfigError> {
        for key in raw.keys() {
            if !SETTINGS.iter().any(|d| d.name == key) && key != "CONFIG" {
                return Err(invalid(&format!("RAPPORT_{key}"), "unknown setting"));
            }
        }
        let get = |name: &str| raw.get(name).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://rapport.db".to_string());
        check_database_url(&database_url)?;
        let bind_text = get("BIND").unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let bind = parse_bind(&bind_text)?;
        let base_text = get("BASE_URL").unwrap_or_else(|| "http://localhost:8080".to_string());
        let base_url = url::Url::parse(&base_text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                invalid(
                    "RAPPORT_BASE_URL",
                    format!("expected an http(s) address such as https://feedback.example.org, got \"{base_text}\""),
                )
            })?;
        let time_zone_text = get("TIME_ZONE").unwrap_or_else(|| "Europe/London".to_string());
        let time_zone: Tz = time_zone_text.parse().map_err(|_| {
            invalid(
                "RAPPORT_TIME_ZONE",
                format!("expected an IANA time zone such as Europe/London, got \"{time_zone_text}\""),
            )
        })?;
        let default_language = get("DEFAULT_LANGUAGE").unwrap_or_else(|| "en".to_string());
        crate::domain::appointment::check_language(&default_language)
            .map_err(|e| invalid("RAPPORT_DEFAULT_LANGUAGE", e))?;
        let numerals_text = get("CLIENT_NUMERALS").unwrap_or_else(|| "western".to_string());
        let client_numerals = crate::i18n::Numerals::parse(&numerals_text).ok_or_else(|| {
            invalid(
                "RAPPORT_CLIENT_NUMERALS",
                format!("expected western or native, got \"{numerals_text}\""),
            )
        })?;
        let mail = match get("SMTP_URL") {
            Some(url) => {
                check_smtp_url(&url)?;
                MailTransport::Smtp(url)
            }
            None => MailTransport::Folder(PathBuf::from(
                get("OUTBOX_DIR").unwrap_or_else(|| "./outbox".to_string()),
            )),
        };
        let from_text = get("MAIL_FROM").unwrap_or_else(|| "Rapport <no-reply@localhost>".to_string());
        let mail_from = from_text.parse().map_err(|_| {
            invalid(
                "RAPPORT_MAIL_FROM",
                format!("expected an address such as \"Clinic <feedback@example.org>\", got \"{from_text}\""),
            )
        })?;
        let dkim = match (get("DKIM_KEY_FILE"), get("DKIM_SELECTOR"), get("DKIM_DOMAIN")) {
            (None, None, None) => None,
            (Some(key_file), Some(selector), Some(domain)) => Some(DkimSettings {
                key_file: key_file.into(),
                selector,
                domain,
            }),
            _ => {
                return Err(invalid(
                    "RAPPORT_DKIM_KEY_FILE",
                    "DKIM needs all three of DKIM_KEY_FILE, DKIM_SELECTOR and DKIM_DOMAIN",
                ));
            }
        };
        let secret_key = get("SECRET_KEY");
        if let Some(k) = &secret_key
            && k.len() < 64
        {
            return Err(invalid(
                "RAPPORT_SECRET_KEY",
                format!("must be at least 64 characters, got {}", k.len()),
            ));
        }
        let quiet_hours = parse_quiet_hours(&get("QUIET_HOURS").unwrap_or_else(|| "21:00-08:00".to_string()))
            .map_err(|m| invalid("RAPPORT_QUIET_HOURS", m))?;
        let log_filter = get("LOG").unwrap_or_else(|| "info".to_string());
        tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|e| {
            invalid(
                "RAPPORT_LOG",
                format!("expected a log filter such as info or rapport=debug,actix_web=warn ({e})"),
            )
        })?;
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "RAPPORT_LOG_FORMAT",
                    format!("expected text or json, got \"{other}\""),
                ));
            }
        };
        Ok(Settings {
            db_pool_size: number(&get("DB_POOL_SIZE"), "DB_POOL_SIZE", 8, 1, 200)? as u32,
            database_url,
            bind,
            base_url,
            clinic_name: get("CLINIC_NAME").unwrap_or_else(|| DEFAULT_CLINIC_NAME.to_string()),
            time_zone,
            default_language,
            client_numerals,
            mail,
            mail_from,
            smtp_timeout_seconds: number(&get("SMTP_TIMEOUT_SECONDS"), "SMTP_TIMEOUT_SECONDS", 30, 1, 600)? as u64,
            dkim,
            secret_key,
            secret_key_file: get("SECRET_KEY_FILE").map(PathBuf::from),
            invite_delay_minutes: number(&get("INVITE_DELAY_MINUTES"), "INVITE_DELAY_MINUTES", 60, 0, 7 * 24 * 60)?,
            quiet_hours,
            reminder_after_hours: number(&get("REMINDER_AFTER_HOURS"), "REMINDER_AFTER_HOURS", 48, 1, 24 * 30)?,
            expiry_days: number(&get("EXPIRY_DAYS"), "EXPIRY_DAYS", 4, 1, 60)?,
            job_interval_seconds: number(&get("JOB_INTERVAL_SECONDS"), "JOB_INTERVAL_SECONDS", 15, 1, 3600)? as u64,
            log_format,
            log_filter,
            trust_proxy: match get("TRUST_PROXY").as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("off") | Some("no") | Some("false") | Some("0") => false,
                Some("on") | Some("yes") | Some("true") | Some("1") => true,
                Some(other) => {
                    return Err(invalid(
                        "RAPPORT_TRUST_PROXY",
                        format!("expected on or off, got \"{other}\""),
                    ));
                }
            },
            retention_days: parse_retention_days(&get("RETENTION_DAYS").unwrap_or_default())
                .map_err(|m| invalid("RAPPORT_RETENTION_DAYS", m))?,
            demo: false,
        })
    }

    /// Every effective setting as (name, value) with secrets masked, for
    /// `rapport check-config` and the start-up log.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("RAPPORT_DATABASE_URL".into(), mask_url(&self.database_url)),
            ("RAPPORT_DB_POOL_SIZE".into(), self.db_pool_size.to_string()),
            ("RAPPORT_BIND".into(), self.bind.to_string()),
            ("RAPPORT_BASE_URL".into(), self.base_url.to_string()),
            ("RAPPORT_CLINIC_NAME".into(), self.clinic_name.clone()),
            ("RAPPORT_TIME_ZONE".into(), self.time_zone.to_string()),
            ("RAPPORT_DEFAULT_LANGUAGE".into(), self.default_language.clone()),
            ("RAPPORT_CLIENT_NUMERALS".into(), self.client_numerals.as_str().into()),
        ];
        match &self.mail {
            MailTransport::Folder(dir) => out.push(("RAPPORT_OUTBOX_DIR".into(), dir.display().to_string())),
            MailTransport::Smtp(url) => out.push(("RAPPORT_SMTP_URL".into(), mask_url(url))),
        }
        out.push(("RAPPORT_MAIL_FROM".into(), self.mail_from.to_string()));
        out.push((
            "RAPPORT_SMTP_TIMEOUT_SECONDS".into(),
            self.smtp_timeout_seconds.to_string(),
        ));
        if let Some(d) = &self.dkim {
            out.push(("RAPPORT_DKIM_KEY_FILE".into(), d.key_file.display().to_string()));
            out.push(("RAPPORT_DKIM_SELECTOR".into(), d.selector.clone()));
            out.push(("RAPPORT_DKIM_DOMAIN".into(), d.domain.clone()));
        }
        out.push((
            "RAPPORT_SECRET_KEY".into(),
            if self.secret_key.is_some() {
                "******** (set)".into()
            } else {
                format!("(read from {})", self.key_file().display())
            },
        ));
        out.push((
            "RAPPORT_INVITE_DELAY_MINUTES".into(),
            self.invite_delay_minutes.to_string(),
        ));
        out.push(("RAPPORT_QUIET_HOURS".into(), quiet_hours_setting(self.quiet_hours)));
        out.push((
            "RAPPORT_REMINDER_AFTER_HOURS".into(),
            self.reminder_after_hours.to_string(),
        ));
        out.push(("RAPPORT_EXPIRY_DAYS".into(), self.expiry_days.to_string()));
        out.push((
            "RAPPORT_JOB_INTERVAL_SECONDS".into(),
            self.job_interval_seconds.to_string(),
        ));
        out.push((
            "RAPPORT_LOG_FORMAT".into(),
            if self.log_format == LogFormat::Json {
                "json"
            } else {
                "text"
            }
            .into(),
        ));
        out.push(("RAPPORT_LOG".into(), self.log_filter.clone()));
        out.push((
            "RAPPORT_TRUST_PROXY".into(),
            if self.trust_proxy { "on" } else { "off" }.into(),
        ));
        out.push((
            "RAPPORT_RETENTION_DAYS".into(),
            self.retention_days.map_or_else(|| "off".to_string(), |d| d.to_string()),
        ));
        out
    }

    /// Cookies carry `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute link under the public base URL.
    pub fn link(&self, path: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }
}

fn number(value: &Option<String>, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    let n: i64 = text.parse().map_err(|_| {
        invalid(
            &format!("RAPPORT_{name}"),
            format!("expected a whole number, got \"{text}\""),
        )
    })?;
    if n < min || n > max {
        return Err(invalid(
            &format!("RAPPORT_{name}"),
            format!("must be between {min} and {max}, got {n}"),
        ));
    }
    Ok(n)
}

fn parse_bind(text: &str) -> Result<SocketAddr, ConfigError> {
    let err = || {
        invalid(
            "RAPPORT_BIND",
            format!("expected host:port such as 127.0.0.1:8080, got \"{text}\""),
        )
    };
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    if !text.contains(':') {
        return Err(err());
    }
    text.to_socket_addrs().map_err(|_| err())?.next().ok_or_else(err)
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let setting = "RAPPORT_DATABASE_URL";
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let parsed = url::Url::parse(url).map_err(|e| invalid(setting, format!("not a valid PostgreSQL URL ({e})")))?;
        if parsed.host_str().unwrap_or("").is_empty() {
            return Err(invalid(
                setting,
                "a PostgreSQL URL needs a host, such as postgres://user@127.0.0.1:5432/rapport",
            ));
        }
        return Ok(());
    }
    if let Some(scheme_end) = url.find("://") {
        let scheme = &url[..scheme_end];
        if scheme != "sqlite" {
            return Err(invalid(
                setting,
                format!("unsupported database \"{scheme}\": use sqlite://PATH or postgres://…"),
            ));
        }
    }
    let path = sqlite_path(url);
    if path.is_empty() {
        return Err(invalid(
            setting,
            "sqlite:// needs a file path, such as sqlite://rapport.db",
        ));
    }
    Ok(())
}

fn check_smtp_url(url: &str) -> Result<(), ConfigError> {
    let parsed = url::Url::parse(url).map_err(|_| {
        invalid(
            "RAPPORT_SMTP_URL",
            format!(
                "expected smtp://host:port or smtps://host:port, got \"{}\"",
                mask_url(url)
            ),
        )
    })?;
    if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().unwrap_or("").is_empty() {
        return Err(invalid(
            "RAPPORT_SMTP_URL",
            format!(
                "expected smtp://host:port or smtps://host:port, got \"{}\"",
                mask_url(url)
            ),
        ));
    }
    Ok(())
}

/// Hides the password of a URL, for logs and `check-config`.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("********"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn read_env(vars: impl Iterator<Item = (String, String)>) -> RawSettings {
    let mut raw = RawSettings::new();
    let mut fallback_db = None;
    for (key, value) in vars {
        if key == "DATABASE_URL" {
            fallback_db = Some(value);
        } else if let Some(name) = key.strip_prefix("RAPPORT_") {
            // Test harness and CLI-only variables are not settings
            // (RAPPORT_CHROMIUM is the browser tests' Chromium, which the
            // README has people export beside the server's settings).
            if name.starts_with("TEST_") || name == "CONFIG" || name == "CHROMIUM" {
                continue;
            }
            raw.insert(name.to_string(), value);
        }
    }
    if let (false, Some(db)) = (raw.contains_key("DATABASE_URL"), fallback_db) {
        raw.insert("DATABASE_URL".into(), db);
    }
    raw
}

/// The TOML file uses the setting names in lower case without the prefix:
/// `database_url = "…"`, `bind = "0.0.0.0:8080"`.
fn read_file(path: &Path) -> Result<RawSettings, ConfigError> {
    let file_err = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_err(e.message().to_string()))?;
    let mut raw = RawSettings::new();
    for (key, value) in table {
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(file_err(format!(
                    "{key}: expected a string or number, got {}",
                    other.type_str()
                )));
            }
        };
        raw.insert(key.to_ascii_uppercase(), text);
    }
    Ok(raw)
}

/// Turns `sqlite://path`, `sqlite:path` or a bare path into the file path
/// SQLite expects.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

impl Settings {
    /// Where the server key is kept when `RAPPORT_SECRET_KEY` is unset:
    /// `RAPPORT_SECRET_KEY_FILE`, else beside the SQLite file
    /// (`rapport.db` → `rapport.key`), else `./rapport.key`. Made absolute,
    /// so the log and messages say exactly which file.
    pub fn key_file(&self) -> std::path::PathBuf {
        let postgres = self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://");
        let path = match &self.secret_key_file {
            Some(path) => path.clone(),
            None if postgres => std::path::PathBuf::from("rapport.key"),
            None => std::path::Path::new(sqlite_path(&self.database_url)).with_extension("key"),
        };
        std::path::absolute(&path).unwrap_or(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawSettings {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_nothing_installed() {
        let s = Settings::from_raw(&RawSettings::new()).unwrap();
        assert_eq!(s.database_url, "sqlite://rapport.db");
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.mail, MailTransport::Folder("./outbox".into()));
        assert_eq!(s.invite_delay_minutes, 60);
        assert_eq!(s.quiet_hours, parse_quiet_hours("21:00-08:00").unwrap());
        assert_eq!(s.retention_days, None);
        let s = Settings::from_raw(&raw(&[("RETENTION_DAYS", "730")])).unwrap();
        assert_eq!(s.retention_days, Some(730));
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (key, value, expect) in [
            ("BIND", "nonsense", "RAPPORT_BIND"),
            ("BASE_URL", "ftp://x", "RAPPORT_BASE_URL"),
            ("TIME_ZONE", "Mars/Olympus", "RAPPORT_TIME_ZONE"),
            ("DEFAULT_LANGUAGE", "Welsh please", "RAPPORT_DEFAULT_LANGUAGE"),
            ("CLIENT_NUMERALS", "roman", "RAPPORT_CLIENT_NUMERALS"),
            ("QUIET_HOURS", "late", "RAPPORT_QUIET_HOURS"),
            ("EXPIRY_DAYS", "-1", "RAPPORT_EXPIRY_DAYS"),
            ("DATABASE_URL", "mysql://x", "RAPPORT_DATABASE_URL"),
            ("SMTP_URL", "http://x", "RAPPORT_SMTP_URL"),
            ("SECRET_KEY", "short", "RAPPORT_SECRET_KEY"),
            ("RETENTION_DAYS", "7", "RAPPORT_RETENTION_DAYS"),
            ("RETENTION_DAYS", "a year", "RAPPORT_RETENTION_DAYS"),
            ("NOT_A_SETTING", "1", "RAPPORT_NOT_A_SETTING"),
        ] {
            let err = Settings::from_raw(&raw(&[(key, value)])).unwrap_err().to_string();
            assert!(err.starts_with(expect), "{key}={value}: {err}");
        }
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = parse_quiet_hours("21:00-08:00").unwrap().unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert!(q.contains(t(23, 0)) && q.contains(t(7, 59)) && q.contains(t(21, 0)));
        assert!(!q.contains(t(8, 0)) && !q.contains(t(20, 59)));
        assert_eq!(parse_quiet_hours("off").unwrap(), None);
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(mask_url("smtp://u:secret@mail:587"), "smtp://u:********@mail:587");
        let s = Settings::from_raw(&raw(&[("DATABASE_URL", "postgres://app:pw@db/rapport")])).unwrap();
        assert!(s.describe().iter().all(|(_, v)| !v.contains("pw@")));
    }

    #[test]
    fn environment_falls_back_to_database_url() {
        let r = read_env(vec![("DATABASE_URL".to_string(), "postgres://h/db".to_string())].into_iter());
        assert_eq!(r.get("DATABASE_URL").unwrap(), "postgres://h/db");
        let r = read_env(
            vec![
                ("DATABASE_URL".to_string(), "postgres://h/db".to_string()),
                ("RAPPORT_DATABASE_URL".to_string(), "sqlite://x.db".to_string()),
            ]
            .into_iter(),
        );
        assert_eq!(r.get("DATABASE_URL").unwrap(), "sqlite://x.db");
    }

    #[test]
    fn the_tests_variables_are_not_settings() {
        // Exported for `cargo test` (README), they must not stop `serve`.
        let r = read_env(
            [
                ("RAPPORT_CHROMIUM", "/usr/bin/chromium"),
                ("RAPPORT_TEST_POSTGRES_URL", "postgres://127.0.0.1/test"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        assert!(r.is_empty());
        assert!(Settings::from_raw(&r).is_ok());
    }
}
