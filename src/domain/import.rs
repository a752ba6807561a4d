//! The appointments CSV as practice systems export it: which column holds
//! what (a mapping, detected from the header or saved per sending system),
//! dates written year-first or day-first (a clinic setting), and a date
//! with separate start and end times as many UK systems write them.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::appointment::{AppointmentIn, AppointmentStatus, ClientDetails};
pub use super::dates::DateOrder;
use super::dates::parse_local_time;

/// What a column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    ClientId,
    ClientName,
    ClientEmail,
    ClinicianEmail,
    Date,
    Start,
    End,
    Status,
    AppointmentId,
    Language,
    TimeZone,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::ClientId,
        Field::ClientName,
        Field::ClientEmail,
        Field::ClinicianEmail,
        Field::Date,
        Field::Start,
        Field::End,
        Field::Status,
        Field::AppointmentId,
        Field::Language,
        Field::TimeZone,
    ];

    /// The column's name in the template (and in a saved mapping).
    pub fn name(self) -> &'static str {
        match self {
            Field::ClientId => "client_id",
            Field::ClientName => "client_name",
            Field::ClientEmail => "client_email",
            Field::ClinicianEmail => "clinician_email",
            Field::Date => "date",
            Field::Start => "start",
            Field::End => "end",
            Field::Status => "status",
            Field::AppointmentId => "appointment_id",
            Field::Language => "language",
            Field::TimeZone => "time_zone",
        }
    }

    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::ClientId => "Client's ID in your system",
            Field::ClientName => "Client's name",
            Field::ClientEmail => "Client's email",
            Field::ClinicianEmail => "Clinician's email",
            Field::Date => "Date (when start and end are times only)",
            Field::Start => "Start",
            Field::End => "End",
            Field::Status => "Status (attended, cancelled, no_show, booked)",
            Field::AppointmentId => "Appointment ID",
            Field::Language => "Client's language (such as en, cy)",
            Field::TimeZone => "Time zone (such as Europe/London)",
        }
    }

    pub fn required(self) -> bool {
        matches!(
            self,
            Field::ClientId | Field::ClientName | Field::ClinicianEmail | Field::Start | Field::End | Field::Status
        )
    }

    /// Header names recognised without a saved mapping.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::ClientId => &["client_id", "client", "patient_id", "patient"],
            Field::ClientName => &["client_name", "name", "patient_name"],
            Field::ClientEmail => &["client_email", "email", "patient_email"],
            Field::ClinicianEmail => &["clinician_email", "clinician", "practitioner_email"],
            Field::Date => &["date", "appointment_date"],
            Field::Start => &["start", "starts_at", "start_time"],
            Field::End => &["end", "ends_at", "end_time"],
            Field::Status => &["status", "outcome"],
            Field::AppointmentId => &["appointment_id", "external_id"],
            Field::Language => &["language"],
            Field::TimeZone => &["time_zone", "timezone"],
        }
    }
}

/// A header as compared: lower case, spaces and hyphens as underscores.
pub fn normalise_header(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// Which column (by normalised header) holds each field.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mapping(BTreeMap<String, String>);

impl Mapping {
    /// The columns recognised by their header names.
    pub fn detect(headers: &[String]) -> Mapping {
        let mut mapping = Mapping::default();
        for field in Field::ALL {
            if let Some(h) = headers.iter().find(|h| field.aliases().contains(&h.as_str())) {
                mapping.set(field, h);
            }
        }
        mapping
    }

    /// A saved mapping applied to this file's headers; columns it names
    /// that are not in the file are filled in by detection instead.
    pub fn adapt(saved: &Mapping, headers: &[String]) -> Mapping {
        let detected = Mapping::detect(headers);
        let mut mapping = Mapping::default();
        for field in Field::ALL {
            let column = saved
                .column(field)
                .filter(|c| headers.iter().any(|h| h == c))
                .or_else(|| detected.column(field));
            if let Some(c) = column {
                mapping.set(field, c);
            }
        }
        mapping
    }

    pub fn set(&mut self, field: Field, column: &str) {
        self.0.insert(field.name().to_string(), column.to_string());
    }

    pub fn column(&self, field: Field) -> Option<&str> {
        self.0.get(field.name()).map(String::as_str)
    }

    /// What stops this mapping being used on a file with these headers.
    pub fn problems(&self, headers: &[String]) -> Vec<String> {
        let mut problems = vec![];
        for field in Field::ALL {
            match self.column(field) {
                None if field.required() => problems.push(format!("choose the column for “{}”", field.label())),
                Some(c) if !headers.iter().any(|h| h == c) => {
                    problems.push(format!("the file has no column “{c}” (for “{}”)", field.label()))
                }
                _ => {}
            }
        }
        for (i, field) in Field::ALL.iter().enumerate() {
            let Some(c) = self.column(*field) else { continue };
            if let Some(other) = Field::ALL[..i].iter().find(|f| self.column(**f) == Some(c)) {
                problems.push(format!(
                    "the column “{c}” is chosen for both “{}” and “{}”",
                    other.label(),
                    field.label()
                ));
            }
        }
        problems
    }
}

/// What the import needs to know besides the file.
#[derive(Debug, Clone)]
pub struct CsvFormat {
    pub clinic_tz: chrono_tz::Tz,
    pub date_order: DateOrder,
    /// The sending system, part of each appointment's identity.
    pub source: String,
}

/// One data row: its line number and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub line: u64,
    pub appointment: Result<AppointmentIn, String>,
}

/// The file's headers, normalised, in their order.
pub fn headers(text: &str) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("line 1: the header row cannot be read ({e})"))?
        .iter()
        .map(normalise_header)
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err("line 1: the file has no header row; the first line must name the columns".into());
    }
    Ok(headers)
}

/// A sending system's name: short, and usable as part of a setting's key.
pub fn check_source(source: &str) -> Result<String, String> {
    let source = source.trim();
    if source.is_empty()
        || source.len() > 60
        || !source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
    {
        return Err(format!(
            "“{source}” is not a system name: use up to 60 letters, digits, spaces, dots, hyphens or underscores (such as SystmOne or csv)"
        ));
    }
    Ok(source.to_string())
}

/// Reads an appointments CSV with a mapping the caller has checked. A
/// wrong row is reported with its line and the others are kept. Rows
/// without an appointment ID get one from client and start, so importing
/// the same file twice changes nothing.
pub fn parse(text: &str, format: &CsvFormat, mapping: &Mapping) -> Result<Vec<CsvRow>, String> {
    let headers = headers(text)?;
    let problems = mapping.problems(&headers);
    if !problems.is_empty() {
        return Err(format!("line 1: {}", problems.join("; ")));
    }
    let index = |field: Field| mapping.column(field).and_then(|c| headers.iter().position(|h| h == c));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
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
        let field = |f: Field| {
            index(f)
                .and_then(|i| record.get(i))
                .map(str::to_string)
                .filter(|s| !s.is_empty())
        };
        let appointment = read_row(&field, format);
        rows.push(CsvRow { line, appointment });
    }
    Ok(rows)
}

fn read_row(field: &impl Fn(Field) -> Option<String>, format: &CsvFormat) -> Result<AppointmentIn, String> {
    let tz_text = field(Field::TimeZone);
    let tz = match &tz_text {
        Some(t) => t
            .parse()
            .map_err(|_| format!("time_zone “{t}” is not an IANA time zone such as Europe/London"))?,
        None => format.clinic_tz,
    };
    let date = field(Field::Date);
    let time = |f: Field, name: &str| -> Result<NaiveDateTime, String> {
        let text = field(f).ok_or(format!("{name} is empty"))?;
        let text = match &date {
            Some(d) if is_time_only(&text) => format!("{d} {text}"),
            _ => text,
        };
        parse_local_time(&text, tz, format.date_order).map_err(|e| format!("{name}: {e}"))
    };
    let starts_at = time(Field::Start, "start")?;
    let ends_at = time(Field::End, "end")?;
    let client_id = field(Field::ClientId).ok_or("client_id is empty")?;
    let status: AppointmentStatus = field(Field::Status).ok_or("status is empty")?.parse()?;
    let external_id =
        field(Field::AppointmentId).unwrap_or_else(|| format!("{client_id}@{}", starts_at.format("%Y-%m-%dT%H:%MZ")));
    let appointment = AppointmentIn {
        source: format.source.clone(),
        external_id,
        clinician_email: field(Field::ClinicianEmail).ok_or("clinician_email is empty")?,
        client: ClientDetails {
            external_id: client_id,
            name: field(Field::ClientName).ok_or("client_name is empty")?,
            email: field(Field::ClientEmail),
            language: field(Field::Language),
            time_zone: tz_text,
        },
        starts_at,
        ends_at,
        status,
    };
    appointment.validate()?;
    Ok(appointment)
}

/// `14:00` or `9:30:00`: a time with no date.
fn is_time_only(text: &str) -> bool {
    chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M").is_ok()
        || chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M:%S").is_ok()
}

/// A file to fill in: the header and one example row.
pub fn template(order: DateOrder) -> String {
    let (start, end) = match order {
        DateOrder::YearFirst => ("2026-03-02 14:00", "2026-03-02 14:50"),
        DateOrder::DayFirst => ("02/03/2026 14:00", "02/03/2026 14:50"),
    };
    format!(
        "client_id,client_name,client_email,clinician_email,start,end,status,appointment_id,language,time_zone\r\n\
         C-1001,Alex Example,alex@example.org,clinician@example.org,{start},{end},attended,A-5001,en,Europe/London\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "client_id,client_name,client_email,clinician_email,start,end,status\n";

    fn format(order: DateOrder) -> CsvFormat {
        CsvFormat {
            clinic_tz: chrono_tz::Europe::London,
            date_order: order,
            source: "csv".into(),
        }
    }

    fn read(text: &str, order: DateOrder) -> Result<Vec<CsvRow>, String> {
        let mapping = Mapping::detect(&headers(text)?);
        parse(text, &format(order), &mapping)
    }

    #[test]
    fn good_rows_are_kept_and_bad_rows_named_by_line() {
        let text = format!(
            "{HEADER}c1,Ann Lee,ann@example.org,dr@example.org,2026-03-02 10:00,2026-03-02 10:50,attended\n\
             c2,Bo Ray,,dr@example.org,2026-03-02 11:00,2026-03-02 10:00,attended\n\
             c3,Cy Fox,cy@example.org,dr@example.org,2026-03-02 12:00,2026-03-02 12:50,maybe\n\
             c4,Di Ng,not-an-email,dr@example.org,2026-03-02 13:00,2026-03-02 13:50,booked\n"
        );
        let rows = read(&text, DateOrder::YearFirst).unwrap();
        assert_eq!(rows.len(), 4);
        let ok = rows[0].appointment.as_ref().unwrap();
        assert_eq!(
            (rows[0].line, ok.client.name.as_str(), ok.status),
            (2, "Ann Lee", AppointmentStatus::Attended)
        );
        assert_eq!(ok.external_id, "c1@2026-03-02T10:00Z");
        assert_eq!(rows[1].line, 3);
        let error = |i: usize| rows[i].appointment.as_ref().unwrap_err().clone();
        assert!(error(1).contains("end must not be before start"));
        assert!(error(2).contains("unknown status"));
        assert!(error(3).contains("not a valid email"));
    }

    #[test]
    fn a_wrong_header_fails_the_file() {
        let err = read("who,when\nx,y\n", DateOrder::YearFirst).unwrap_err();
        assert!(err.starts_with("line 1:") && err.contains("Client's ID"), "{err}");
    }

    #[test]
    fn local_times_use_the_rows_time_zone() {
        let text = "client,client_name,clinician,start,end,status,time_zone\n\
                    c1,A,dr@example.org,2026-07-01 09:00,2026-07-01 09:50,attended,Europe/Paris\n";
        let rows = read(text, DateOrder::YearFirst).unwrap();
        let a = rows[0].appointment.as_ref().unwrap();
        assert_eq!(a.starts_at.format("%H:%M").to_string(), "07:00");
        assert_eq!(a.client.time_zone.as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn day_first_dates_follow_the_clinic_setting() {
        let text = format!("{HEADER}c1,Ann Lee,,dr@example.org,02/03/2026 10:00,02/03/2026 10:50,attended\n");
        let rows = read(&text, DateOrder::DayFirst).unwrap();
        let a = rows[0].appointment.as_ref().unwrap();
        // 2 March, London in winter: UTC.
        assert_eq!(a.starts_at.to_string(), "2026-03-02 10:00:00");
        let rows = read(&text, DateOrder::YearFirst).unwrap();
        let error = rows[0].appointment.as_ref().unwrap_err();
        assert!(
            error.contains("written day-first") && error.contains("dd/mm/yyyy"),
            "{error}"
        );
    }

    #[test]
    fn a_date_column_with_start_and_end_times() {
        let text = "Patient ID,Patient Name,Clinician,Appointment Date,Start Time,End Time,Outcome\n\
                    P7,Ann Lee,dr@example.org,14/07/2026,09:30,10:20,DNA\n";
        let rows = read(text, DateOrder::DayFirst).unwrap();
        let a = rows[0].appointment.as_ref().unwrap();
        // London in summer is an hour ahead of UTC.
        assert_eq!(
            (a.starts_at.to_string(), a.ends_at.to_string()),
            ("2026-07-14 08:30:00".to_string(), "2026-07-14 09:20:00".to_string())
        );
        assert_eq!(a.status, AppointmentStatus::NoShow);
    }

    #[test]
    fn a_saved_mapping_names_columns_the_header_does_not() {
        let text =
            "Ref,Who,Seen by,From,To,State\nR1,Ann Lee,dr@example.org,2026-03-02 10:00,2026-03-02 10:50,attended\n";
        let headers = headers(text).unwrap();
        let detected = Mapping::detect(&headers);
        assert!(!detected.problems(&headers).is_empty(), "nothing recognisable");
        let mut saved = Mapping::default();
        for (field, column) in [
            (Field::ClientId, "ref"),
            (Field::ClientName, "who"),
            (Field::ClinicianEmail, "seen_by"),
            (Field::Start, "from"),
            (Field::End, "to"),
            (Field::Status, "state"),
            // Not in this file: dropped, not an error.
            (Field::ClientEmail, "mail"),
        ] {
            saved.set(field, column);
        }
        let mapping = Mapping::adapt(&saved, &headers);
        assert_eq!(mapping.problems(&headers), Vec::<String>::new());
        let rows = parse(text, &format(DateOrder::YearFirst), &mapping).unwrap();
        assert_eq!(rows[0].appointment.as_ref().unwrap().client.external_id, "R1");
        // One column for two fields is refused.
        let mut twice = mapping.clone();
        twice.set(Field::ClientName, "ref");
        assert!(twice.problems(&headers).iter().any(|p| p.contains("both")));
        // A mapping survives being saved as JSON.
        let json = serde_json::to_string(&mapping).unwrap();
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), mapping);
    }

    #[test]
    fn the_template_imports_as_it_is() {
        for order in DateOrder::ALL {
            let rows = read(&template(order), order).unwrap();
            assert_eq!(rows.len(), 1);
            assert!(rows[0].appointment.is_ok(), "{order:?}: {:?}", rows[0].appointment);
        }
    }

    #[test]
    fn source_names_are_short_and_plain() {
        assert_eq!(check_source(" SystmOne ").unwrap(), "SystmOne");
        assert!(check_source("").is_err());
        assert!(check_source("a/b").is_err());
        assert!(check_source(&"x".repeat(61)).is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,400}") {
            let _ = read(&text, DateOrder::DayFirst);
            let _ = read(&format!("{HEADER}{text}"), DateOrder::DayFirst);
            let _ = read(&format!("client,name,clinician,date,start,end,status\n{text}"), DateOrder::YearFirst);
        }
    }
}
