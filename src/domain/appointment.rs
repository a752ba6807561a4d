//! Appointments as other systems describe them, checked before they are
//! recorded, and the CSV format admins import.

use chrono::NaiveDateTime;

/// Where an appointment stands, in the practice system's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    Attended,
    Cancelled,
    NoShow,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Attended => "attended",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::NoShow => "no_show",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "Booked",
            AppointmentStatus::Attended => "Attended",
            AppointmentStatus::Cancelled => "Cancelled",
            AppointmentStatus::NoShow => "Did not attend",
        }
    }
}

impl std::str::FromStr for AppointmentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "booked" => Ok(AppointmentStatus::Booked),
            "attended" => Ok(AppointmentStatus::Attended),
            "cancelled" | "canceled" => Ok(AppointmentStatus::Cancelled),
            "no_show" | "noshow" | "dna" => Ok(AppointmentStatus::NoShow),
            other => Err(format!(
                "unknown status \"{other}\": expected attended, cancelled, no_show or booked"
            )),
        }
    }
}

/// The client as the sending system knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientDetails {
    pub external_id: String,
    pub name: String,
    pub email: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentIn {
    pub source: String,
    pub external_id: String,
    pub clinician_email: String,
    pub client: ClientDetails,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub status: AppointmentStatus,
}

impl AppointmentIn {
    /// Checks what can be checked without the database.
    pub fn validate(&self) -> Result<(), String> {
        let invalid = |m: &str| Err(m.to_string());
        if self.source.trim().is_empty() || self.source.len() > 100 {
            return invalid("source must be a short non-empty name of the sending system");
        }
        if self.external_id.trim().is_empty() || self.external_id.len() > 200 {
            return invalid("external_id must be non-empty (at most 200 characters)");
        }
        if self.client.external_id.trim().is_empty() || self.client.external_id.len() > 200 {
            return invalid("client.external_id must be non-empty (at most 200 characters)");
        }
        if self.client.name.trim().is_empty() || self.client.name.len() > 200 {
            return invalid("client.name must be non-empty (at most 200 characters)");
        }
        if let Some(email) = &self.client.email {
            check_email(email).map_err(|e| format!("client.email {e}"))?;
        }
        if let Some(tz) = &self.client.time_zone {
            check_time_zone(tz).map_err(|e| format!("client.time_zone {e}"))?;
        }
        if let Some(lang) = &self.client.language {
            check_language(lang).map_err(|e| format!("client.language {e}"))?;
        }
        super::dates::check_time(self.starts_at).map_err(|e| format!("start: {e}"))?;
        super::dates::check_time(self.ends_at).map_err(|e| format!("end: {e}"))?;
        if self.ends_at < self.starts_at {
            return invalid("end must not be before start");
        }
        if self.ends_at - self.starts_at > chrono::Duration::hours(12) {
            return invalid("an appointment longer than 12 hours is not plausible; check start and end");
        }
        Ok(())
    }
}

/// A client's email address as typed: empty (none) or a valid address.
pub fn check_email(email: &str) -> Result<(), String> {
    if !email.trim().is_empty() && email.trim().parse::<lettre::Address>().is_err() {
        return Err(format!("\"{email}\" is not a valid email address"));
    }
    Ok(())
}

/// An IANA time zone name.
pub fn check_time_zone(tz: &str) -> Result<(), String> {
    tz.parse::<chrono_tz::Tz>()
        .map(drop)
        .map_err(|_| format!("\"{tz}\" is not an IANA time zone such as Europe/London"))
}

/// A language tag as clients carry it (letters, digits and hyphens).
pub fn check_language(lang: &str) -> Result<(), String> {
    if lang.is_empty() || lang.len() > 20 || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("\"{lang}\" is not a language tag such as en"));
    }
    Ok(())
}

/// One data row of an appointments CSV: its line number and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub line: u64,
    pub appointment: Result<AppointmentIn, String>,
}

/// The columns an appointments CSV must have (aliases in brackets):
/// `client_id` (client), `client_name`, `clinician_email` (clinician),
/// `start`, `end`, `status`; optional `client_email`, `appointment_id`,
/// `language`, `time_zone`.
pub const CSV_COLUMNS: &str = "client_id, client_name, client_email, clinician_email, start, end, status (optional: appointment_id, language, time_zone)";

/// Parses an appointments CSV. A wrong header fails the whole file; a wrong
/// row is reported with its line and the others are kept. Times are RFC 3339
/// or `YYYY-MM-DD HH:MM` in the row's `time_zone` (else `clinic_tz`). Rows
/// without an `appointment_id` get one from client and start, so importing
/// the same file twice changes nothing.
pub fn parse_csv(text: &str, clinic_tz: chrono_tz::Tz, source: &str) -> Result<Vec<CsvRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("line 1: the header row cannot be read ({e})"))?
        .iter()
        .map(|h| {
            h.trim_start_matches('\u{feff}')
                .to_ascii_lowercase()
                .replace([' ', '-'], "_")
        })
        .collect();
    let column = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let required = [
        ("client_id", column(&["client_id", "client"])),
        ("client_name", column(&["client_name", "name"])),
        ("clinician_email", column(&["clinician_email", "clinician"])),
        ("start", column(&["start", "starts_at"])),
        ("end", column(&["end", "ends_at"])),
        ("status", column(&["status"])),
    ];
    let missing: Vec<&str> = required.iter().filter(|(_, c)| c.is_none()).map(|(n, _)| *n).collect();
    if !missing.is_empty() {
        return Err(format!(
            "line 1: the header lacks {}; expected columns: {CSV_COLUMNS}",
            missing.join(", ")
        ));
    }
    let at = |i: usize| required[i].1.unwrap_or(0);
    let (email_col, id_col, lang_col, tz_col) = (
        column(&["client_email", "email"]),
        column(&["appointment_id", "external_id"]),
        column(&["language"]),
        column(&["time_zone"]),
    );
    let mut rows = vec![];
    for record in reader.records() {
        let (line, record) = match record {
            Ok(r) => (r.position().map_or(0, |p| p.line()), r),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rows.push(CsvRow {
                    line,
                    appointment: Err(format!("the row cannot be read ({e})")),
                });
                continue;
            }
        };
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::to_string)
                .filter(|s| !s.is_empty())
        };
        let appointment = (|| {
            let tz_text = field(tz_col);
            let tz = match &tz_text {
                Some(t) => t
                    .parse()
                    .map_err(|_| format!("time_zone \"{t}\" is not an IANA time zone such as Europe/London"))?,
                None => clinic_tz,
            };
            let start_text = field(Some(at(3))).ok_or("start is empty")?;
            let starts_at = parse_time(&start_text, tz).map_err(|e| format!("start: {e}"))?;
            let ends_at =
                parse_time(&field(Some(at(4))).ok_or("end is empty")?, tz).map_err(|e| format!("end: {e}"))?;
            let client_id = field(Some(at(0))).ok_or("client_id is empty")?;
            let status: AppointmentStatus = field(Some(at(5))).ok_or("status is empty")?.parse()?;
            let external_id =
                field(id_col).unwrap_or_else(|| format!("{client_id}@{}", starts_at.format("%Y-%m-%dT%H:%MZ")));
            let appointment = AppointmentIn {
                source: source.to_string(),
                external_id,
                clinician_email: field(Some(at(2))).ok_or("clinician_email is empty")?,
                client: ClientDetails {
                    external_id: client_id,
                    name: field(Some(at(1))).ok_or("client_name is empty")?,
                    email: field(email_col),
                    language: field(lang_col),
                    time_zone: tz_text,
                },
                starts_at,
                ends_at,
                status,
            };
            appointment.validate()?;
            Ok::<_, String>(appointment)
        })();
        rows.push(CsvRow { line, appointment });
    }
    Ok(rows)
}

/// RFC 3339, or a local `YYYY-MM-DD HH:MM` (also with `T`) in `tz`.
pub fn parse_time(text: &str, tz: chrono_tz::Tz) -> Result<NaiveDateTime, String> {
    use chrono::TimeZone;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return super::dates::check_time(t.naive_utc());
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            super::dates::check_time(local)?;
            return tz
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.naive_utc())
                .ok_or_else(|| format!("\"{text}\" does not exist in {tz} (a daylight-saving change)"));
        }
    }
    Err(format!(
        "\"{text}\" is not a time such as 2026-03-02 14:00 or 2026-03-02T14:00:00Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "client_id,client_name,client_email,clinician_email,start,end,status\n";

    #[test]
    fn good_rows_are_kept_and_bad_rows_named_by_line() {
        let text = format!(
            "{HEADER}c1,Ann Lee,ann@example.org,dr@example.org,2026-03-02 10:00,2026-03-02 10:50,attended\n\
             c2,Bo Ray,,dr@example.org,2026-03-02 11:00,2026-03-02 10:00,attended\n\
             c3,Cy Fox,cy@example.org,dr@example.org,2026-03-02 12:00,2026-03-02 12:50,maybe\n\
             c4,Di Ng,not-an-email,dr@example.org,2026-03-02 13:00,2026-03-02 13:50,booked\n"
        );
        let rows = parse_csv(&text, chrono_tz::Europe::London, "csv").unwrap();
        assert_eq!(rows.len(), 4);
        let ok = rows[0].appointment.as_ref().unwrap();
        assert_eq!(
            (rows[0].line, ok.client.name.as_str(), ok.status),
            (2, "Ann Lee", AppointmentStatus::Attended)
        );
        assert_eq!(ok.external_id, "c1@2026-03-02T10:00Z");
        assert_eq!(rows[1].line, 3);
        assert!(
            rows[1]
                .appointment
                .as_ref()
                .unwrap_err()
                .contains("end must not be before start")
        );
        assert!(rows[2].appointment.as_ref().unwrap_err().contains("unknown status"));
        assert!(rows[3].appointment.as_ref().unwrap_err().contains("not a valid email"));
    }

    #[test]
    fn a_wrong_header_fails_the_file() {
        let err = parse_csv("who,when\nx,y\n", chrono_tz::UTC, "csv").unwrap_err();
        assert!(err.starts_with("line 1:") && err.contains("client_id"));
    }

    #[test]
    fn local_times_use_the_rows_time_zone() {
        let text = "client,client_name,clinician,start,end,status,time_zone\n\
                    c1,A,dr@example.org,2026-07-01 09:00,2026-07-01 09:50,attended,Europe/Paris\n";
        let rows = parse_csv(text, chrono_tz::UTC, "csv").unwrap();
        let a = rows[0].appointment.as_ref().unwrap();
        assert_eq!(a.starts_at.format("%H:%M").to_string(), "07:00");
        assert_eq!(a.client.time_zone.as_deref(), Some("Europe/Paris"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,400}") {
            let _ = parse_csv(&text, chrono_tz::UTC, "csv");
            let with_header = format!("{HEADER}{text}");
            let _ = parse_csv(&with_header, chrono_tz::UTC, "csv");
        }
    }
}
