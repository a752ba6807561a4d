//! The research export: answers without identities.
//!
//! Each export draws a fresh random key. A client's pseudonym is an HMAC of
//! their id under that key, so it is stable within one export (a client's
//! rows can be followed over time) but two exports cannot be linked, and the
//! id cannot be recovered without the key, which is never stored. The same
//! key gives each client a date shift of 1–365 days either way, so intervals
//! between a client's sessions survive while calendar dates do not.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::instrument::{Answer, InstrumentDefinition, ItemKind};

/// The per-export secret. Made from OS randomness at the edge; never stored.
#[derive(Clone)]
pub struct PseudonymKey([u8; 32]);

impl PseudonymKey {
    pub fn from_bytes(bytes: [u8; 32]) -> PseudonymKey {
        PseudonymKey(bytes)
    }

    fn mac(&self, label: &str, client_id: i64) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(label.as_bytes());
        mac.update(&client_id.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// "p-" and 16 hex digits (64 bits: no collisions in any clinic's lifetime).
    pub fn pseudonym(&self, client_id: i64) -> String {
        format!("p-{}", hex::encode(&self.mac("pseudonym", client_id)[..8]))
    }

    /// A shift of 1 to 365 days, earlier or later, the same for all of one
    /// client's dates in this export (never zero).
    pub fn date_shift_days(&self, client_id: i64) -> i64 {
        let bytes = self.mac("date shift", client_id);
        let n = u64::from_be_bytes(bytes[..8].try_into().unwrap_or_default()) % 730;
        let n = n as i64;
        if n < 365 { -(n + 1) } else { n - 364 }
    }

    pub fn shifted(&self, client_id: i64, date: NaiveDate) -> NaiveDate {
        date + Duration::days(self.date_shift_days(client_id))
    }
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(…)")
    }
}

/// Session numbers: each client's attended appointments numbered 1, 2, …
/// in order of their start. Input: (client, appointment, start).
pub fn session_numbers(appointments: &[(i64, i64, NaiveDateTime)]) -> HashMap<i64, u32> {
    let mut sorted: Vec<&(i64, i64, NaiveDateTime)> = appointments.iter().collect();
    sorted.sort_by_key(|(client, id, start)| (*client, *start, *id));
    let mut numbers = HashMap::with_capacity(sorted.len());
    let mut current = None;
    let mut n = 0;
    for (client, id, _) in sorted {
        if current != Some(*client) {
            current = Some(*client);
            n = 0;
        }
        n += 1;
        numbers.insert(*id, n);
    }
    numbers
}

/// The items a research export carries for a set of questionnaires: every
/// item but free text, in questionnaire order, each id once.
pub fn item_columns<'a>(instruments: impl IntoIterator<Item = &'a InstrumentDefinition>) -> Vec<String> {
    let mut columns: Vec<String> = vec![];
    for instrument in instruments {
        for item in instrument.items() {
            if !matches!(item.kind, ItemKind::Text { .. }) && !columns.contains(&item.id) {
                columns.push(item.id.clone());
            }
        }
    }
    columns
}

/// An answer as a CSV cell. Free text never leaves Rapport this way.
pub fn answer_cell(answer: &Answer) -> Option<String> {
    match answer {
        Answer::Number(v) => Some(number(*v)),
        Answer::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        Answer::Choice(c) => Some(c.clone()),
        Answer::Text(_) => None,
    }
}

/// A number without trailing noise: 9 rather than 9.0, 37.33 at most two decimals.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pseudonyms_are_stable_within_an_export_and_differ_between_exports() {
        let one = PseudonymKey::from_bytes([7; 32]);
        let two = PseudonymKey::from_bytes([8; 32]);
        assert_eq!(one.pseudonym(42), one.pseudonym(42));
        assert_ne!(one.pseudonym(42), one.pseudonym(43));
        assert_ne!(one.pseudonym(42), two.pseudonym(42));
        assert!(one.pseudonym(42).starts_with("p-") && one.pseudonym(42).len() == 18);
        assert!(!one.pseudonym(42).contains("42"));
        assert!(!format!("{one:?}").contains('7'));
    }

    #[test]
    fn session_numbers_follow_each_clients_appointments_in_time() {
        let t = |d: u32| {
            NaiveDate::from_ymd_opt(2026, 3, d)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap()
        };
        let numbers = session_numbers(&[(1, 100, t(9)), (2, 200, t(2)), (1, 101, t(2)), (1, 102, t(16))]);
        assert_eq!(numbers[&101], 1);
        assert_eq!(numbers[&100], 2);
        assert_eq!(numbers[&102], 3);
        assert_eq!(numbers[&200], 1);
    }

    #[test]
    fn answers_become_cells_and_free_text_never_does() {
        assert_eq!(answer_cell(&Answer::Number(9.0)).as_deref(), Some("9"));
        assert_eq!(answer_cell(&Answer::Number(2.5)).as_deref(), Some("2.5"));
        assert_eq!(answer_cell(&Answer::Bool(true)).as_deref(), Some("yes"));
        assert_eq!(answer_cell(&Answer::Choice("b".into())).as_deref(), Some("b"));
        assert_eq!(answer_cell(&Answer::Text("my name is Ann".into())), None);
        let shipped = crate::domain::instrument::shipped_instruments();
        let columns = item_columns(&shipped);
        assert_eq!(columns, ["bond", "goals", "approach", "overall", "uncomfortable"]);
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(number(38.0), "38");
        assert_eq!(number(37.333333), "37.33");
        assert_eq!(number(95.5), "95.5");
    }

    proptest! {
        #[test]
        fn date_shifts_are_never_zero_and_at_most_a_year(key in any::<[u8; 32]>(), client in any::<i64>()) {
            let key = PseudonymKey::from_bytes(key);
            let shift = key.date_shift_days(client);
            prop_assert!(shift != 0 && (-365..=365).contains(&shift));
            // One client's dates all move together, so intervals are kept.
            let a = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
            let b = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
            prop_assert_eq!(key.shifted(client, b) - key.shifted(client, a), b - a);
        }
    }
}
