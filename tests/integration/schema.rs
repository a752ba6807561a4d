//! The schema as the code sees it: fresh SQLite and PostgreSQL databases,
//! migrated from nothing, hold the same tables and columns (name, type,
//! nullability) as each other and as `src/store/schema.rs`, the diesel
//! description every query is checked against at compile time. A migration
//! written for one backend only, or a column added without `schema.rs`,
//! fails here rather than on a clinic's server.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::common::{Backend, TestDb};

/// Table → column → (diesel type, nullable).
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// What `src/store/schema.rs` declares.
fn described() -> Columns {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.rs")).unwrap();
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        // A table opens with `name (primary key) {`.
        if let Some(name) = line
            .strip_suffix('{')
            .and_then(|l| l.split_once(" ("))
            .map(|(name, _)| name)
            && !name.contains(' ')
            && !name.contains('!')
        {
            current = Some(name.to_string());
            tables.entry(name.to_string()).or_default();
            continue;
        }
        if line == "}" {
            current = None;
            continue;
        }
        if let (Some(table), Some((column, kind))) = (&current, line.trim_end_matches(',').split_once(" -> ")) {
            let (kind, nullable) = match kind.strip_prefix("Nullable<").and_then(|k| k.strip_suffix('>')) {
                Some(inner) => (inner, true),
                None => (kind, false),
            };
            tables
                .get_mut(table)
                .unwrap()
                .insert(column.to_string(), (kind.to_string(), nullable));
        }
    }
    tables
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "type")]
    kind: String,
    #[diesel(sql_type = BigInt)]
    notnull: i64,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct PostgresColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

/// A fresh database of `backend`, migrated by Rapport itself.
fn migrated(backend: Backend) -> Option<TestDb> {
    let db = TestDb::create(backend)?;
    let mut conn = rapport::store::establish(&db.url).unwrap();
    rapport::store::run_migrations(&mut conn).unwrap();
    Some(db)
}

fn sqlite_columns(db: &TestDb) -> Columns {
    let path = db.url.strip_prefix("sqlite://").unwrap();
    let mut conn = diesel::SqliteConnection::establish(path).unwrap();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .unwrap();
    let mut found = Columns::new();
    for table in tables {
        let columns: Vec<SqliteColumn> = diesel::sql_query(format!("PRAGMA table_info({})", table.name))
            .load(&mut conn)
            .unwrap();
        let entry = found.entry(table.name).or_default();
        for c in columns {
            let declared = c.kind.to_ascii_uppercase();
            let kind = match declared.as_str() {
                // SQLite stores every integer in up to 64 bits, whatever
                // the declared name (see `integers_as_sqlite_keeps_them`).
                "INTEGER" | "BIGINT" => "BigInt",
                "TEXT" => "Text",
                "BOOLEAN" => "Bool",
                "TIMESTAMP" => "Timestamp",
                "DATE" => "Date",
                "DOUBLE" | "REAL" | "DOUBLE PRECISION" => "Double",
                other => panic!("SQLite column {} has a type this check does not know: {other}", c.name),
            };
            entry.insert(c.name, (kind.to_string(), c.notnull == 0 && c.pk == 0));
        }
    }
    found
}

fn postgres_columns(db: &TestDb) -> Columns {
    let mut conn = diesel::PgConnection::establish(&db.url).unwrap();
    let columns: Vec<PostgresColumn> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .unwrap();
    let mut found = Columns::new();
    for c in columns {
        let kind = match c.data_type.as_str() {
            "bigint" => "BigInt",
            "integer" => "Integer",
            "text" => "Text",
            "boolean" => "Bool",
            "timestamp without time zone" => "Timestamp",
            "date" => "Date",
            "double precision" => "Double",
            other => panic!(
                "PostgreSQL column {}.{} has a type this check does not know: {other}",
                c.table_name, c.column_name
            ),
        };
        found
            .entry(c.table_name)
            .or_default()
            .insert(c.column_name, (kind.to_string(), c.is_nullable == "YES"));
    }
    found
}

/// A description as SQLite keeps it: INTEGER and BIGINT columns are the
/// same 64-bit integers there, so `Integer` and `BigInt` compare equal.
fn integers_as_sqlite_keeps_them(columns: &Columns) -> Columns {
    let mut widened = columns.clone();
    for column in widened.values_mut().flat_map(|t| t.values_mut()) {
        if column.0 == "Integer" {
            column.0 = "BigInt".to_string();
        }
    }
    widened
}

/// Every difference between two descriptions, one line each.
fn differences(left_name: &str, left: &Columns, right_name: &str, right: &Columns) -> Vec<String> {
    let mut out = vec![];
    for table in left
        .keys()
        .chain(right.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (left.get(table), right.get(table)) {
            (Some(_), None) => out.push(format!("table {table}: in {left_name}, not in {right_name}")),
            (None, Some(_)) => out.push(format!("table {table}: in {right_name}, not in {left_name}")),
            (Some(l), Some(r)) => {
                for column in l.keys().chain(r.keys()).collect::<std::collections::BTreeSet<_>>() {
                    match (l.get(column), r.get(column)) {
                        (a, b) if a == b => {}
                        (a, b) => out.push(format!("{table}.{column}: {left_name} {a:?}, {right_name} {b:?}")),
                    }
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn migrated_databases_match_each_other_and_schema_rs() {
    let described = described();
    assert!(described.len() >= 15, "schema.rs read: {:?}", described.keys());
    let sqlite = sqlite_columns(&migrated(Backend::Sqlite).unwrap());
    let mut problems = differences(
        "schema.rs",
        &integers_as_sqlite_keeps_them(&described),
        "SQLite",
        &sqlite,
    );
    match migrated(Backend::Postgres) {
        Some(db) => {
            let postgres = postgres_columns(&db);
            problems.extend(differences("schema.rs", &described, "PostgreSQL", &postgres));
            problems.extend(differences(
                "SQLite",
                &sqlite,
                "PostgreSQL",
                &integers_as_sqlite_keeps_them(&postgres),
            ));
        }
        None => crate::common::skipped(Backend::Postgres),
    }
    assert!(problems.is_empty(), "the schemas differ:\n{}", problems.join("\n"));
}
