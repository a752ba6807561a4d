//! Aggregate maths for the managers' trends (CLINICAL.md §4). Pure: no
//! I/O, no database, no HTTP.
//!
//! - [`period`]: weeks and months in the clinic's time zone, and the
//!   dashboard's selection (range, grouping, breakdown) parsed from a request.
//! - [`cells`]: facts of one period turned into cells (one per group), the
//!   figures read from a cell, suppression of cells with fewer than five
//!   clients, medians and the anonymous spread across clinicians.
//! - [`research`]: pseudonyms, date shifts and session numbers for the
//!   research export.

pub mod cells;
pub mod period;
pub mod research;

pub use cells::{
    AlertFact, Attribution, Cell, CellValue, Figure, GroupKey, InvitationFact, InvitationState, MIN_CLIENTS, Outcome,
    PeriodFacts, ResponseFact, RuleCell, RuleFigure, SessionFact, Spread, Unit, aggregate, median, spread,
};
pub use period::{Breakdown, Grouping, Period, Selection, SelectionInput, local_midnight_utc, parse_selection};
