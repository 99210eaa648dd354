//! `lantern directory …`: the referral directory from the command line. `import` reads HSDS JSON or a
//! Tabular Data Package, validates every record, crosswalks Open Eligibility terms to Lantern's taxonomy
//! and writes the result in one store transaction; `export` writes what a viewer may see; `search` runs
//! the same search as the staff pages.
//!
//! Bad input (an invalid file, an unknown code, a flag that makes no sense) is a [`BadInput`]: every
//! problem is printed, the command exits 2 and nothing changes.

use crate::admin::{hotline_id, store};
use crate::common::{BadInput, Global, bad_input};
use anyhow::Context as _;
use lantern_directory::ext::{Viewer, project};
use lantern_directory::io::{self, ImportError, ImportReport, Mode};
use lantern_directory::model::Directory;
use lantern_directory::taxonomy;
use lantern_server::directory::{HitView, Loaded, SearchRequest, from_records, to_records};
use lantern_store::{AuditCtx, DirectoryChange, DirectoryRecord};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `lantern directory …`
#[derive(Debug, clap::Subcommand)]
pub enum DirectoryCmd {
    /// Import HSDS records: a JSON file (one object, an array, NDJSON or an API page) or a Tabular Data
    /// Package (a folder, or its datapackage.json). A file with any invalid record is rejected whole.
    Import(ImportArgs),
    /// Export the directory as HSDS JSON (full services) or a Tabular Data Package, as a viewer sees it.
    Export(ExportArgs),
    /// Search the directory near a place, by service type, population, language and hours.
    Search(SearchArgs),
}

/// Arguments of `lantern directory import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The hotline's slug.
    #[arg(long)]
    hotline: String,
    /// Import the valid records and list the invalid ones, instead of rejecting the whole file.
    #[arg(long)]
    skip_invalid: bool,
    /// Replace the whole directory instead of merging into it (records with the same id are replaced
    /// either way).
    #[arg(long)]
    replace: bool,
    /// The HSDS table of a JSON file's top-level objects (default: guessed from each object's fields).
    #[arg(long)]
    table: Option<String>,
    /// A JSON or NDJSON file, a folder holding a Tabular Data Package, or its datapackage.json.
    path: PathBuf,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An array of full HSDS service objects (services with their organisation, locations, phones…).
    Json,
    /// datapackage.json and one CSV per table: every record, linked to a service or not.
    Datapackage,
}

/// Who an export is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ViewerArg {
    /// Anyone: no confidential address, no partner-only or internal field.
    Public,
    /// Partner organisations: no confidential address, no internal field.
    Partner,
    /// The hotline's own staff: everything.
    Internal,
}

impl ViewerArg {
    fn viewer(self) -> Viewer {
        match self {
            ViewerArg::Public => Viewer::Public,
            ViewerArg::Partner => Viewer::Partner,
            ViewerArg::Internal => Viewer::Internal,
        }
    }

    fn code(self) -> &'static str {
        match self {
            ViewerArg::Public => "public",
            ViewerArg::Partner => "partner",
            ViewerArg::Internal => "internal",
        }
    }
}

/// Arguments of `lantern directory export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The hotline's slug.
    #[arg(long)]
    hotline: String,
    /// `json` (a file, or DIR/directory.json) or `datapackage` (a folder).
    #[arg(long, value_enum)]
    format: Format,
    /// Who the export is for: what they may not see is left out.
    #[arg(long, value_enum, default_value = "public")]
    viewer: ViewerArg,
    /// The file or folder to write.
    target: PathBuf,
}

/// Arguments of `lantern directory search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The hotline's slug.
    #[arg(long)]
    hotline: String,
    /// A five-digit ZIP code where the person is.
    #[arg(long)]
    zip: Option<String>,
    /// Or a "City, ST".
    #[arg(long)]
    city: Option<String>,
    /// Or a latitude (with --lng).
    #[arg(long, allow_negative_numbers = true)]
    lat: Option<f64>,
    /// Longitude (with --lat).
    #[arg(long, allow_negative_numbers = true)]
    lng: Option<f64>,
    /// How far to look, in km (default 50).
    #[arg(long)]
    radius_km: Option<f64>,
    /// A service type (DOMAIN.md §5); repeat for any of several.
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// A population that must be served; repeat to require several.
    #[arg(long = "population", value_name = "POPULATION")]
    populations: Vec<String>,
    /// A language (ISO 639 code such as es); repeat for any of several.
    #[arg(long = "language", value_name = "CODE")]
    languages: Vec<String>,
    /// Only what is open now, in each location's own time zone.
    #[arg(long)]
    open_now: bool,
    /// Only vetted entries.
    #[arg(long)]
    vetted_only: bool,
    /// Words that must all appear in names or descriptions.
    #[arg(long)]
    text: Option<String>,
    /// At most this many results (1 to 500, default 50).
    #[arg(long)]
    limit: Option<usize>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `lantern directory …`.
pub async fn run(g: &Global, c: DirectoryCmd) -> anyhow::Result<ExitCode> {
    match c {
        DirectoryCmd::Import(a) => import(g, a).await,
        DirectoryCmd::Export(a) => export(g, a).await,
        DirectoryCmd::Search(a) => search(g, a).await,
    }
}

/// Why an import failed, as the operator sees it: every invalid record on its own line.
fn import_error(path: &Path, e: ImportError) -> anyhow::Error {
    match e {
        ImportError::Invalid(issues) => BadInput {
            message: format!(
                "{}: {} problem(s) in {} record(s); nothing was imported (--skip-invalid imports the rest)",
                path.display(),
                issues.len(),
                records_with_issues(&issues),
            ),
            details: issues.iter().map(ToString::to_string).collect(),
        }
        .into(),
        other => bad_input(other.to_string()),
    }
}

fn records_with_issues(issues: &[io::Issue]) -> usize {
    issues
        .iter()
        .map(|i| (&i.file, i.row, &i.table))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Whether the text is NDJSON written by [`io::export_ndjson`] (each record names its table).
fn is_table_ndjson(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<serde_json::Map<String, Value>>(l).ok())
        .is_some_and(|m| m.contains_key("x_table"))
}

/// Reads and validates an HSDS file or data package into a directory of its own.
fn read_hsds(
    path: &Path,
    table: Option<&str>,
    mode: Mode,
) -> anyhow::Result<(Directory, ImportReport)> {
    let mut dir = Directory::default();
    let package = if path.is_dir() {
        Some(path.to_owned())
    } else if path.file_name().is_some_and(|n| n == "datapackage.json") {
        Some(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_owned(),
        )
    } else {
        None
    };
    if let Some(folder) = package {
        if table.is_some() {
            return Err(bad_input(
                "--table: only for JSON files (a data package names each file's table)",
            ));
        }
        let report =
            io::import_datapackage(&mut dir, &folder, mode).map_err(|e| import_error(path, e))?;
        return Ok((dir, report));
    }
    if !path.exists() {
        return Err(bad_input(format!(
            "{}: no such file or folder",
            path.display()
        )));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    let file = path.display().to_string();
    let report = if table.is_none() && is_table_ndjson(&text) {
        io::import_ndjson_tables(&mut dir, &file, &text, mode)
    } else {
        if let Some(t) = table
            && lantern_directory::spec::table(t).is_none()
        {
            let known: Vec<&str> = lantern_directory::spec::TABLES
                .iter()
                .map(|t| t.name)
                .collect();
            return Err(bad_input(format!(
                "--table: unknown HSDS table `{t}`; allowed: {}",
                known.join(", ")
            )));
        }
        io::import_json(&mut dir, &file, &text, table, mode)
    }
    .map_err(|e| import_error(path, e))?;
    Ok((dir, report))
}

/// The records of `after` that are new or differ from `before`.
fn changed(before: &[DirectoryRecord], after: Vec<DirectoryRecord>) -> Vec<DirectoryRecord> {
    let old: HashMap<(&str, &str), Value> = before
        .iter()
        .map(|r| {
            let v = serde_json::from_str(&r.json).unwrap_or(Value::Null);
            ((r.table.as_str(), r.id.as_str()), v)
        })
        .collect();
    after
        .into_iter()
        .filter(|r| {
            old.get(&(r.table.as_str(), r.id.as_str()))
                .is_none_or(|v| serde_json::from_str::<Value>(&r.json).ok().as_ref() != Some(v))
        })
        .collect()
}

/// `lantern directory import`.
async fn import(g: &Global, a: ImportArgs) -> anyhow::Result<ExitCode> {
    let mode = if a.skip_invalid {
        Mode::SkipInvalid
    } else {
        Mode::Strict
    };
    let path = a.path.clone();
    let table = a.table.clone();
    let (incoming, report) =
        tokio::task::spawn_blocking(move || read_hsds(&path, table.as_deref(), mode))
            .await
            .context("reading the import")??;
    let tables = incoming.tables();
    if tables.is_empty() {
        return Err(bad_input(format!(
            "{}: no valid HSDS records found",
            a.path.display()
        )));
    }
    for issue in &report.skipped {
        eprintln!("skipped {issue}");
    }

    let store = store(g).await?;
    let h = hotline_id(&*store, &a.hotline).await?;
    let before = store.directory_records(&h).await?;
    let mut dir = if a.replace {
        Directory::default()
    } else {
        from_records(&before)?
    };
    for (table, rows) in &tables {
        for row in rows {
            dir.insert_value(table, row.clone())
                .with_context(|| format!("merging a {table} record"))?;
        }
    }
    let crosswalked = taxonomy::apply_open_eligibility_crosswalk(&mut dir);
    taxonomy::install(&mut dir);
    let all = to_records(&dir);
    let upserts = if a.replace {
        all
    } else {
        changed(&before, all)
    };
    let written = upserts.len();
    let version = store
        .change_directory(
            &AuditCtx::cli(Some(h.clone())),
            &h,
            &DirectoryChange {
                action: "directory.import".into(),
                upserts,
                deletes: Vec::new(),
                replace_all: a.replace,
            },
        )
        .await?;

    let per_table: Vec<String> = tables
        .iter()
        .map(|(t, rows)| format!("{t} {}", rows.len()))
        .collect();
    let total: usize = tables.values().map(Vec::len).sum();
    println!(
        "imported {total} records ({}); skipped {}; {crosswalked} service types and populations from Open Eligibility terms; {written} records written{}; directory version {version}",
        per_table.join(", "),
        records_with_issues(&report.skipped),
        if a.replace {
            " (directory replaced)"
        } else {
            ""
        },
    );
    Ok(ExitCode::SUCCESS)
}

/// `lantern directory export`.
async fn export(g: &Global, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let file = match a.format {
        Format::Json if a.target.is_dir() => a.target.join("directory.json"),
        Format::Json => {
            if let Some(parent) = a.target.parent().filter(|p| !p.as_os_str().is_empty())
                && !parent.is_dir()
            {
                return Err(bad_input(format!(
                    "{}: folder {} does not exist",
                    a.target.display(),
                    parent.display()
                )));
            }
            a.target.clone()
        }
        Format::Datapackage => {
            if a.target.exists() && !a.target.is_dir() {
                return Err(bad_input(format!(
                    "{}: a data package is written into a folder, and this is a file",
                    a.target.display()
                )));
            }
            a.target.clone()
        }
    };
    let store = store(g).await?;
    let h = hotline_id(&*store, &a.hotline).await?;
    let dir = from_records(&store.directory_records(&h).await?)?;
    let shown = project(&dir, a.viewer.viewer());
    let records: usize = shown.tables().values().map(Vec::len).sum();
    let format = match a.format {
        Format::Json => "json",
        Format::Datapackage => "datapackage",
    };
    // Audited before anything is written: an export that fails half-way may still have left data.
    store
        .audit(
            &AuditCtx::cli(Some(h.clone())),
            "directory.export",
            "directory",
            None,
            serde_json::json!({
                "format": format,
                "viewer": a.viewer.code(),
                "records": records,
                "services": shown.service.len(),
            }),
        )
        .await?;
    match a.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&io::export_json(&shown))?;
            std::fs::write(&file, json).with_context(|| format!("writing {}", file.display()))?;
            println!(
                "wrote {} services to {} (viewer {})",
                shown.service.len(),
                file.display(),
                a.viewer.code()
            );
        }
        Format::Datapackage => {
            io::export_datapackage(&shown, &file)
                .with_context(|| format!("writing a data package into {}", file.display()))?;
            println!(
                "wrote {records} records in {} tables and datapackage.json to {} (viewer {})",
                shown.tables().len(),
                file.display(),
                a.viewer.code()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The command-line flag for a field of [`SearchRequest`] (`service_types[1]` → `--type`).
fn flag(field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    match base {
        "service_types" => "--type".into(),
        "populations" => "--population".into(),
        "languages" => "--language".into(),
        "lat" | "lng" => "--lat/--lng".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

fn search_request(a: &SearchArgs) -> SearchRequest {
    SearchRequest {
        zip: a.zip.clone(),
        city: a.city.clone(),
        lat: a.lat,
        lng: a.lng,
        radius_km: a.radius_km,
        service_types: a.types.clone(),
        populations: a.populations.clone(),
        languages: a.languages.clone(),
        open_now: a.open_now,
        vetted_only: a.vetted_only,
        text: a.text.clone(),
        limit: a.limit,
        ..SearchRequest::default()
    }
}

/// `lantern directory search`.
async fn search(g: &Global, a: SearchArgs) -> anyhow::Result<ExitCode> {
    let req = search_request(&a);
    // Checked before the store is opened, so a typo costs nothing.
    if let Err(e) = req.to_query() {
        return Err(search_input_error(e));
    }
    let store = store(g).await?;
    let h = hotline_id(&*store, &a.hotline).await?;
    let version = store.directory_version(&h).await?;
    let dir = from_records(&store.directory_records(&h).await?)?;
    let loaded = tokio::task::spawn_blocking(move || Loaded::new(version, dir))
        .await
        .context("building the search index")?;
    let hits = lantern_server::directory::search(&loaded, &req, Viewer::Internal)
        .map_err(search_input_error)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
    } else {
        print!("{}", table(&hits));
        eprintln!("{} result(s)", hits.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn search_input_error(e: lantern_server::error::AppError) -> anyhow::Error {
    let p = e.problem();
    if p.errors.is_empty() {
        return anyhow::anyhow!("{}", p.detail);
    }
    let mut lines: Vec<String> = p
        .errors
        .iter()
        .map(|f| format!("{}: {}", flag(&f.field), f.message))
        .collect();
    let message = lines.pop().unwrap_or_default();
    BadInput {
        details: lines.into_iter().map(|l| format!("error: {l}")).collect(),
        message,
    }
    .into()
}

/// The results as an aligned text table.
fn table(hits: &[HitView]) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "NAME".into(),
        "ORGANISATION".into(),
        "DISTANCE".into(),
        "OPEN".into(),
        "VETTED".into(),
        "LANGUAGES".into(),
    ]];
    for h in hits {
        let open = serde_json::to_value(h.open)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        rows.push([
            h.card.service_name.clone(),
            h.card.organization_name.clone().unwrap_or_default(),
            h.distance_km
                .map_or_else(|| "-".to_owned(), |d| format!("{d:.1} km")),
            open,
            if h.vetted { "yes" } else { "no" }.to_owned(),
            h.card.languages.join(","),
        ]);
    }
    let mut widths = [0usize; 6];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(widths).enumerate() {
            line.push_str(c);
            if i + 1 < widths.len() {
                line.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_server::directory::{Card, SharedCard};

    #[test]
    fn search_fields_are_named_by_their_flags() {
        assert_eq!(flag("service_types[2]"), "--type");
        assert_eq!(flag("populations[0]"), "--population");
        assert_eq!(flag("languages[0]"), "--language");
        assert_eq!(flag("radius_km"), "--radius-km");
        assert_eq!(flag("zip"), "--zip");
        assert_eq!(flag("lat"), "--lat/--lng");
    }

    #[test]
    fn only_new_or_different_records_are_written_on_a_merge() {
        let rec = |id: &str, json: &str| DirectoryRecord {
            table: "service".into(),
            id: id.into(),
            json: json.into(),
        };
        let before = vec![
            rec("a", r#"{"id":"a","name":"A"}"#),
            rec("b", r#"{"id":"b"}"#),
        ];
        let after = vec![
            rec("a", r#"{"name":"A","id":"a"}"#),
            rec("b", r#"{"id":"b","name":"B"}"#),
            rec("c", r#"{"id":"c"}"#),
        ];
        let ids: Vec<String> = changed(&before, after).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["b", "c"]);
    }

    #[test]
    fn the_table_lines_up_columns_and_marks_unknown_distances() {
        let hit = |name: &str, d: Option<f64>| HitView {
            card: SharedCard(std::sync::Arc::new(Card {
                service_at_location_id: None,
                service_id: "s".into(),
                location_id: None,
                organization_id: None,
                service_name: name.into(),
                organization_name: Some("Org".into()),
                location_name: None,
                description: None,
                address: None,
                city: None,
                state: None,
                phones: vec![],
                hours: vec![],
                languages: vec!["en".into(), "es".into()],
                redacted: false,
                service_types: vec![],
                populations: vec![],
            })),
            distance_km: d,
            open: lantern_directory::schedule::OpenStatus::Unknown,
            vetted: true,
            why: vec![],
        };
        let t = table(&[hit("Legal services – Hope", Some(3.25)), hit("X", None)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].contains("3.2 km") || lines[1].contains("3.3 km"),
            "{t}"
        );
        assert!(lines[2].contains(" - "), "{t}");
        // "Org" starts in the same column on both rows, counted in characters (the dash is 3 bytes).
        let col = |l: &str| l[..l.find("Org").unwrap()].chars().count();
        assert_eq!(col(lines[1]), col(lines[2]), "{t}");
        assert!(lines[1].ends_with("en,es"));
    }
}
