//! Appointments as other systems describe them, checked before they are
//! recorded.

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
    if !email.trim().is_empty() {
        super::email::EmailAddress::parse(email)?;
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
