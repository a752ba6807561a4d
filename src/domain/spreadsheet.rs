//! Text bound for a CSV file that people open in a spreadsheet.

/// A CSV cell a spreadsheet must never read as a formula (a leading `=`,
/// `+`, `-`, `@`, tab or carriage return is quoted with an apostrophe).
pub fn spreadsheet_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_text;

    #[test]
    fn formulas_are_quoted_and_text_is_kept() {
        assert_eq!(spreadsheet_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_text("-3"), "'-3");
        assert_eq!(spreadsheet_text("Ann"), "Ann");
    }
}
