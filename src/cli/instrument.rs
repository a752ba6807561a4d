//! `rapport instrument import|list|default`: questionnaires are data files.

use std::path::{Path, PathBuf};

use std::process::ExitCode;

use clap::Subcommand;

use crate::clock::{Clock, SystemClock};
use crate::domain::instrument::InstrumentDefinition;
use crate::store::{self, StoreError, instruments};

use super::{fail, load_settings};

#[derive(Subcommand)]
pub enum InstrumentCommand {
    /// Publish an instrument definition (TOML). An invalid file is refused;
    /// a published version never changes — give a changed file a new version.
    Import {
        file: PathBuf,
        /// Use it for new invitations from now on.
        #[arg(long)]
        default: bool,
    },
    /// List published instrument versions.
    List,
    /// Use a published version for new invitations: `rapport instrument default SLUG VERSION`.
    Default { slug: String, version: i32 },
}

fn read_definition(file: &Path) -> Result<InstrumentDefinition, ExitCode> {
    let text = std::fs::read_to_string(file).map_err(|e| fail(format!("cannot read {}: {e}", file.display())))?;
    InstrumentDefinition::from_toml_str(&text)
        .map_err(|e| fail(format!("{} is not a valid instrument: {e}", file.display())))
}

fn import(
    conn: &mut store::DbConnection,
    def: &InstrumentDefinition,
    default: bool,
    now: chrono::NaiveDateTime,
) -> Result<String, StoreError> {
    let title = def.title().get(&def.languages()[0]).unwrap_or(def.id()).to_string();
    let (id, what) = match instruments::publish(conn, def.id(), def.version() as i32, &title, &def.to_json(), now)? {
        instruments::Published::New(id) => (id, "published"),
        instruments::Published::AlreadyThere(id) => (id, "already published with the same content; nothing changed"),
    };
    if default {
        instruments::set_default(conn, id)?;
    }
    Ok(format!(
        "{} version {}: {what}{}",
        def.id(),
        def.version(),
        if default { "; now the default" } else { "" }
    ))
}

pub fn run(config: Option<&Path>, command: InstrumentCommand) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // An invalid file is refused before the database is touched.
    let definition = match &command {
        InstrumentCommand::Import { file, .. } => match read_definition(file) {
            Ok(d) => Some(d),
            Err(code) => return code,
        },
        _ => None,
    };
    let now = SystemClock.now();
    let mut conn = match crate::app::open_database(&settings.database_url, now) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let result: Result<String, StoreError> = match command {
        InstrumentCommand::Import { default, file } => match &definition {
            Some(def) => import(&mut conn, def, default, now),
            None => Err(StoreError::Invalid(format!("{} was not read", file.display()))),
        },
        InstrumentCommand::List => instruments::list(&mut conn).map(|rows| {
            rows.iter()
                .map(|r| {
                    format!(
                        "{:<24} v{:<3} {}{}",
                        r.slug,
                        r.version,
                        r.title,
                        if r.is_default { "  (default)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        }),
        InstrumentCommand::Default { slug, version } => {
            instruments::find_version(&mut conn, &slug, version).and_then(|found| {
                let row = found
                    .ok_or_else(|| StoreError::Invalid(format!("no published instrument {slug} version {version}")))?;
                instruments::set_default(&mut conn, row.id)?;
                Ok(format!("{slug} version {version} is now used for new invitations"))
            })
        }
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
