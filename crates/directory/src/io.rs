//! Import and export of HSDS data: JSON (a single object, an array of full objects, NDJSON, or an API
//! page with `contents`) and the Tabular Data Package (`datapackage.json` plus one CSV per table).
//! Every record is validated against the HSDS 3.1 table specification ([`crate::spec`]): required
//! fields, types and allowed values. A file with errors is rejected whole, with every error listed by
//! file, row and field; [`Mode::SkipInvalid`] imports the rest and reports what it skipped. Unknown
//! fields are kept. Lantern's extension travels as `x_lantern` (a JSON column in CSV).

use crate::ext::LanternExt;
use crate::model::Directory;
use crate::spec::{self, Kind, TableSpec};
use serde_json::{Map, Value};
use std::path::Path;

/// What to do with invalid records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reject the whole import if any record is invalid.
    #[default]
    Strict,
    /// Import the valid records and report the invalid ones.
    SkipInvalid,
}

/// One problem with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file (as given).
    pub file: String,
    /// The row: a CSV line number (the header is line 1), an NDJSON line, or the 1-based position of a
    /// top-level JSON object.
    pub row: usize,
    /// The HSDS table of the record.
    pub table: String,
    /// The field at fault (empty for the record as a whole).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}.{}: {}",
            self.file, self.row, self.table, self.field, self.message
        )
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportReport {
    /// Records imported.
    pub imported: usize,
    /// Records skipped (only with [`Mode::SkipInvalid`]), with why.
    pub skipped: Vec<Issue>,
}

/// Why an import failed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Records were invalid (strict mode): every problem is listed.
    #[error("{} invalid record(s):\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Issue>),
    /// The file could not be parsed at all.
    #[error("{file}: {message}")]
    Unreadable {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// How a nested key of an HSDS object maps to a table: an array of children that point back to the
/// parent through `fk`, or a single object the parent points to through `fk`.
enum Nest {
    Children(&'static str, &'static str),
    Parent(&'static str, &'static str),
}

fn nest(table: &str, key: &str) -> Option<Nest> {
    use Nest::{Children as C, Parent as P};
    Some(match (table, key) {
        ("organization", "services") => C("service", "organization_id"),
        ("organization", "locations") => C("location", "organization_id"),
        ("organization", "phones") => C("phone", "organization_id"),
        ("organization", "contacts") => C("contact", "organization_id"),
        ("organization", "funding") => C("funding", "organization_id"),
        ("organization", "programs") => C("program", "organization_id"),
        ("organization", "organization_identifiers") => {
            C("organization_identifier", "organization_id")
        }
        ("organization", "additional_websites") => C("url", "organization_id"),
        ("service", "organization") => P("organization", "organization_id"),
        ("service", "program") => P("program", "program_id"),
        ("service", "additional_urls") => C("url", "service_id"),
        ("service", "phones") => C("phone", "service_id"),
        ("service", "schedules") => C("schedule", "service_id"),
        ("service", "service_areas") => C("service_area", "service_id"),
        ("service", "service_at_locations") => C("service_at_location", "service_id"),
        ("service", "languages") => C("language", "service_id"),
        ("service", "funding") => C("funding", "service_id"),
        ("service", "cost_options") => C("cost_option", "service_id"),
        ("service", "required_documents") => C("required_document", "service_id"),
        ("service", "contacts") => C("contact", "service_id"),
        ("service", "capacities") => C("service_capacity", "service_id"),
        ("service_at_location", "service") => P("service", "service_id"),
        ("service_at_location", "location") => P("location", "location_id"),
        ("service_at_location", "service_areas") => C("service_area", "service_at_location_id"),
        ("service_at_location", "contacts") => C("contact", "service_at_location_id"),
        ("service_at_location", "phones") => C("phone", "service_at_location_id"),
        ("service_at_location", "schedules") => C("schedule", "service_at_location_id"),
        ("location", "languages") => C("language", "location_id"),
        ("location", "addresses") => C("address", "location_id"),
        ("location", "contacts") => C("contact", "location_id"),
        ("location", "accessibility") => C("accessibility", "location_id"),
        ("location", "phones") => C("phone", "location_id"),
        ("location", "schedules") => C("schedule", "location_id"),
        ("contact", "phones") => C("phone", "contact_id"),
        ("phone", "languages") => C("language", "phone_id"),
        ("attribute", "taxonomy_term") => P("taxonomy_term", "taxonomy_term_id"),
        ("taxonomy_term", "taxonomy_detail") => P("taxonomy", "taxonomy_id"),
        ("service_capacity", "unit") => P("unit", "unit_id"),
        (_, "attributes") => C("attribute", "link_id"),
        (_, "metadata") => C("metadata", "resource_id"),
        _ => return None,
    })
}

/// Guesses the HSDS table of a top-level JSON object.
pub fn guess_table(obj: &Map<String, Value>) -> &'static str {
    let has = |k: &str| obj.contains_key(k);
    if has("location_type") || has("addresses") {
        "location"
    } else if has("status") {
        "service"
    } else if has("code")
        || has("parent_id")
        || has("taxonomy_detail")
        || has("term_uri")
        || has("taxonomy_id")
    {
        "taxonomy_term"
    } else if (has("service") || has("location") || has("service_id") || has("location_id"))
        && !has("name")
    {
        "service_at_location"
    } else if has("version") && !has("services") {
        "taxonomy"
    } else {
        "organization"
    }
}

fn check_value(field: &str, kind: Kind, v: &Value) -> Option<String> {
    let s = v.as_str();
    match kind {
        Kind::Number => (!v.is_number()).then(|| format!("`{field}` must be a number")),
        Kind::Str | Kind::Time | Kind::DateTime => {
            s.is_none().then(|| format!("`{field}` must be a string"))
        }
        Kind::Uuid => match s {
            None => Some(format!("`{field}` must be a string")),
            Some(s) => uuid::Uuid::parse_str(s)
                .is_err()
                .then(|| format!("`{field}` must be a UUID, got `{s}`")),
        },
        Kind::Date => match s {
            Some(s) if s.parse::<jiff::civil::Date>().is_ok() => None,
            _ => Some(format!("`{field}` must be a date YYYY-MM-DD")),
        },
        Kind::Enum(allowed) => match s {
            Some(s) if allowed.contains(&s) => None,
            _ => Some(format!("`{field}` must be one of {}", allowed.join(", "))),
        },
    }
}

/// Checks one flat record against its table's specification; returns (field, message) pairs.
pub fn validate_record(table: &TableSpec, row: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in table.fields {
        match row.get(f.name) {
            None | Some(Value::Null) => {
                if f.required {
                    out.push((f.name.to_owned(), format!("`{}` is required", f.name)));
                }
            }
            Some(v) => {
                // Foreign keys are checked as strings only: real data sets use other identifiers.
                let kind = if f.kind == Kind::Uuid && f.name != "id" {
                    Kind::Str
                } else {
                    f.kind
                };
                if let Some(m) = check_value(f.name, kind, v) {
                    out.push((f.name.to_owned(), m));
                }
            }
        }
    }
    if let Some(x) = row.get("x_lantern")
        && let Err(e) = serde_json::from_value::<LanternExt>(x.clone())
    {
        out.push(("x_lantern".into(), e.to_string()));
    }
    out
}

/// Flattens a (possibly nested) HSDS object of `table` into flat records, setting foreign keys.
fn flatten(table: &str, mut obj: Map<String, Value>, out: &mut Vec<(String, Map<String, Value>)>) {
    let id = obj.get("id").cloned();
    let keys: Vec<String> = obj.keys().cloned().collect();
    for key in keys {
        let Some(n) = nest(table, &key) else { continue };
        let Some(v) = obj.remove(&key) else { continue };
        match (n, v) {
            (Nest::Children(child, fk), Value::Array(items)) => {
                for item in items {
                    if let Value::Object(mut m) = item {
                        if let Some(id) = &id
                            && m.get(fk).is_none_or(Value::is_null)
                        {
                            m.insert(fk.into(), id.clone());
                        }
                        if child == "attribute" && !m.contains_key("link_entity") {
                            m.insert("link_entity".into(), Value::String(table.into()));
                        }
                        flatten(child, m, out);
                    }
                }
            }
            (Nest::Parent(parent, fk), Value::Object(m)) => {
                if let Some(pid) = m.get("id").cloned()
                    && obj.get(fk).is_none_or(Value::is_null)
                {
                    obj.insert(fk.into(), pid);
                }
                flatten(parent, m, out);
            }
            (_, Value::Null) => {}
            (_, other) => {
                obj.insert(key, other);
            }
        }
    }
    // Nulls carry nothing: drop them so records compare equal after a round trip.
    obj.retain(|_, v| !v.is_null());
    out.push((table.to_owned(), obj));
}

fn apply(
    dir: &mut Directory,
    file: &str,
    records: Vec<(usize, String, Map<String, Value>)>,
    mode: Mode,
) -> Result<ImportReport, ImportError> {
    let mut issues = Vec::new();
    let mut good = Vec::new();
    for (row, table, rec) in records {
        let errs = match spec::table(&table) {
            Some(t) => validate_record(t, &rec),
            None => vec![(String::new(), format!("unknown table `{table}`"))],
        };
        if errs.is_empty() {
            good.push((table, rec));
        } else {
            for (field, message) in errs {
                issues.push(Issue {
                    file: file.into(),
                    row,
                    table: table.clone(),
                    field,
                    message,
                });
            }
        }
    }
    if mode == Mode::Strict && !issues.is_empty() {
        return Err(ImportError::Invalid(issues));
    }
    // The same record may appear several times in nested JSON (a phone under a service and under its
    // location): merge the occurrences, so each keeps every link it was given.
    let mut merged: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut seen: std::collections::HashMap<(String, String), usize> =
        std::collections::HashMap::new();
    for (table, rec) in good {
        let key = (
            table.clone(),
            rec.get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        );
        match seen.get(&key) {
            Some(&i) => {
                for (k, v) in rec {
                    merged[i].1.entry(k).or_insert(v);
                }
            }
            None => {
                seen.insert(key, merged.len());
                merged.push((table, rec));
            }
        }
    }
    let mut staged = dir.clone();
    let mut imported = 0;
    for (table, rec) in merged {
        let id = rec
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match staged.insert_value(&table, rec) {
            Ok(()) => imported += 1,
            Err(e) => issues.push(Issue {
                file: file.into(),
                row: 0,
                table,
                field: id,
                message: e.to_string(),
            }),
        }
    }
    if mode == Mode::Strict && !issues.is_empty() {
        return Err(ImportError::Invalid(issues));
    }
    *dir = staged;
    Ok(ImportReport {
        imported,
        skipped: issues,
    })
}

/// Imports HSDS JSON text (a single object, an array, NDJSON or an API page) into `dir`. `table` names
/// the top-level objects' table; without it each object's table is guessed ([`guess_table`]).
/// Nothing changes unless the import succeeds.
pub fn import_json(
    dir: &mut Directory,
    file: &str,
    text: &str,
    table: Option<&str>,
    mode: Mode,
) -> Result<ImportReport, ImportError> {
    let mut tops: Vec<(usize, Map<String, Value>)> = Vec::new();
    let unreadable = |message: String| ImportError::Unreadable {
        file: file.into(),
        message,
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            for (i, v) in items.into_iter().enumerate() {
                match v {
                    Value::Object(m) => tops.push((i + 1, m)),
                    _ => return Err(unreadable(format!("item {} is not an object", i + 1))),
                }
            }
        }
        Ok(Value::Object(m)) => match m.get("contents") {
            Some(Value::Array(items)) => {
                for (i, v) in items.iter().enumerate() {
                    match v {
                        Value::Object(o) => tops.push((i + 1, o.clone())),
                        _ => {
                            return Err(unreadable(format!(
                                "contents item {} is not an object",
                                i + 1
                            )));
                        }
                    }
                }
            }
            _ => tops.push((1, m)),
        },
        Ok(_) => return Err(unreadable("expected a JSON object or array".into())),
        Err(whole) => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(Value::Object(m)) => tops.push((i + 1, m)),
                    Ok(_) => return Err(unreadable(format!("line {}: not a JSON object", i + 1))),
                    Err(e) if i == 0 && text.lines().count() == 1 => {
                        return Err(unreadable(whole.to_string() + &format!(" ({e})")));
                    }
                    Err(e) => return Err(unreadable(format!("line {}: {e}", i + 1))),
                }
            }
        }
    }
    let mut records = Vec::new();
    for (row, obj) in tops {
        let t = table.map_or_else(|| guess_table(&obj).to_owned(), str::to_owned);
        let mut flat = Vec::new();
        flatten(&t, obj, &mut flat);
        records.extend(flat.into_iter().map(|(t, r)| (row, t, r)));
    }
    apply(dir, file, records, mode)
}

fn csv_value(kind: Option<Kind>, field: &str, s: &str) -> Result<Value, String> {
    if field == "x_lantern" {
        return serde_json::from_str(s).map_err(|e| format!("`x_lantern` is not JSON: {e}"));
    }
    match kind {
        Some(Kind::Number) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{field}` must be a number, got `{s}`")),
        _ => Ok(Value::String(s.to_owned())),
    }
}

/// Imports one table's CSV text.
pub fn import_csv(
    dir: &mut Directory,
    file: &str,
    table: &str,
    text: &str,
    mode: Mode,
) -> Result<ImportReport, ImportError> {
    let records = read_csv(file, table, text)?;
    apply_with_parse_errors(dir, file, records, mode)
}

type Parsed = Vec<Result<(usize, String, Map<String, Value>), Issue>>;

fn read_csv(file: &str, table: &str, text: &str) -> Result<Parsed, ImportError> {
    let spec = spec::table(table);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ImportError::Unreadable {
            file: file.into(),
            message: e.to_string(),
        })?
        .clone();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.push(Err(Issue {
                    file: file.into(),
                    row,
                    table: table.into(),
                    field: String::new(),
                    message: e.to_string(),
                }));
                continue;
            }
        };
        let mut m = Map::new();
        let mut bad = None;
        for (h, v) in headers.iter().zip(rec.iter()) {
            if v.is_empty() {
                continue;
            }
            let kind = spec
                .and_then(|t| t.fields.iter().find(|f| f.name == h))
                .map(|f| f.kind);
            match csv_value(kind, h, v) {
                Ok(val) => {
                    m.insert(h.to_owned(), val);
                }
                Err(message) => {
                    bad = Some(Issue {
                        file: file.into(),
                        row,
                        table: table.into(),
                        field: h.into(),
                        message,
                    })
                }
            }
        }
        out.push(match bad {
            Some(issue) => Err(issue),
            None => Ok((row, table.to_owned(), m)),
        });
    }
    Ok(out)
}

fn apply_with_parse_errors(
    dir: &mut Directory,
    file: &str,
    parsed: Parsed,
    mode: Mode,
) -> Result<ImportReport, ImportError> {
    let mut parse_issues = Vec::new();
    let mut records = Vec::new();
    for p in parsed {
        match p {
            Ok(r) => records.push(r),
            Err(i) => parse_issues.push(i),
        }
    }
    let strict_with_errors = mode == Mode::Strict && !parse_issues.is_empty();
    let mut scratch = if strict_with_errors {
        dir.clone()
    } else {
        Directory::default()
    };
    let target = if strict_with_errors {
        &mut scratch
    } else {
        dir
    };
    let result = apply(
        target,
        file,
        records,
        if parse_issues.is_empty() {
            mode
        } else {
            Mode::SkipInvalid
        },
    );
    match (mode, result) {
        (Mode::Strict, Err(ImportError::Invalid(mut more))) if !parse_issues.is_empty() => {
            parse_issues.append(&mut more);
            Err(ImportError::Invalid(parse_issues))
        }
        (Mode::Strict, Ok(r)) if !parse_issues.is_empty() => {
            parse_issues.extend(r.skipped);
            Err(ImportError::Invalid(parse_issues))
        }
        (_, Ok(mut r)) => {
            r.skipped.splice(0..0, parse_issues);
            Ok(r)
        }
        (_, Err(e)) => Err(e),
    }
}

/// Imports a Tabular Data Package from a folder (`datapackage.json` names the CSV of each table; without
/// it the standard file names are used). All files are checked before anything changes.
pub fn import_datapackage(
    dir: &mut Directory,
    folder: &Path,
    mode: Mode,
) -> Result<ImportReport, ImportError> {
    let io = |file: &Path, source| ImportError::Io {
        file: file.display().to_string(),
        source,
    };
    let dp = folder.join("datapackage.json");
    let mut resources: Vec<(String, String)> = Vec::new();
    if dp.exists() {
        let mut text = std::fs::read_to_string(&dp).map_err(|e| io(&dp, e))?;
        // A symbolic link checked out as a plain file holds the target's path: follow it.
        let t = text.trim();
        if !t.starts_with('{') && !t.contains('\n') && t.ends_with(".json") {
            let target = folder.join(t);
            text = std::fs::read_to_string(&target).map_err(|e| io(&target, e))?;
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| ImportError::Unreadable {
            file: dp.display().to_string(),
            message: e.to_string(),
        })?;
        for r in v
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(n), Some(p)) = (
                r.get("name").and_then(Value::as_str),
                r.get("path").and_then(Value::as_str),
            ) {
                resources.push((n.into(), p.into()));
            }
        }
    } else {
        resources = spec::TABLES
            .iter()
            .map(|t| (t.name.to_owned(), t.path.to_owned()))
            .collect();
    }
    let mut parsed: Parsed = Vec::new();
    for (name, path) in resources {
        let file = folder.join(&path);
        if !file.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&file).map_err(|e| io(&file, e))?;
        parsed.extend(read_csv(&path, &name, &text)?);
    }
    apply_with_parse_errors(dir, &folder.display().to_string(), parsed, mode)
}

/// Exports the directory as a Tabular Data Package into `folder` (created if needed): one CSV per
/// table in the specification's column order (unknown fields and `x_lantern` as extra columns) and a
/// `datapackage.json` listing them. Project it first ([`crate::ext::project`]) for a public export.
pub fn export_datapackage(dir: &Directory, folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let tables = dir.tables();
    let mut resources = Vec::new();
    for (name, rows) in &tables {
        let spec = spec::table(name);
        let path = spec.map_or_else(|| format!("{name}.csv"), |s| s.path.to_owned());
        let mut cols: Vec<String> = spec
            .map(|s| s.fields.iter().map(|f| f.name.to_owned()).collect())
            .unwrap_or_default();
        for r in rows {
            for k in r.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
        let mut w = csv::Writer::from_path(folder.join(&path)).map_err(std::io::Error::other)?;
        w.write_record(&cols).map_err(std::io::Error::other)?;
        for r in rows {
            let rec: Vec<String> = cols
                .iter()
                .map(|c| match r.get(c) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect();
            w.write_record(&rec).map_err(std::io::Error::other)?;
        }
        w.flush()?;
        resources.push(
            serde_json::json!({ "name": name, "path": path, "profile": "tabular-data-resource" }),
        );
    }
    let dp = serde_json::json!({
        "name": "lantern_directory",
        "profile": "tabular-data-package",
        "version": "3.1",
        "resources": resources,
    });
    std::fs::write(
        folder.join("datapackage.json"),
        serde_json::to_string_pretty(&dp).map_err(std::io::Error::other)?,
    )
}

/// Exports the directory as NDJSON: one flat HSDS record per line, each with its table under the key
/// `x_table` so that [`import_ndjson_tables`] restores exactly the same directory.
pub fn export_ndjson(dir: &Directory) -> String {
    let mut out = String::new();
    for (table, rows) in dir.tables() {
        for mut r in rows {
            r.insert("x_table".into(), Value::String(table.clone()));
            out.push_str(&Value::Object(r).to_string());
            out.push('\n');
        }
    }
    out
}

/// Imports NDJSON written by [`export_ndjson`] (records carry their table in `x_table`).
pub fn import_ndjson_tables(
    dir: &mut Directory,
    file: &str,
    text: &str,
    mode: Mode,
) -> Result<ImportReport, ImportError> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut m: Map<String, Value> =
            serde_json::from_str(line).map_err(|e| ImportError::Unreadable {
                file: file.into(),
                message: format!("line {}: {e}", i + 1),
            })?;
        let table = match m.remove("x_table") {
            Some(Value::String(t)) => t,
            _ => guess_table(&m).to_owned(),
        };
        records.push((i + 1, table, m));
    }
    apply(dir, file, records, mode)
}

/// Exports the directory as HSDS JSON: an array of full `service` objects, each with its phones,
/// schedules, service areas, languages, funding, cost options, required documents, contacts,
/// additional URLs, attributes (with their taxonomy term and taxonomy), its organisation, and its
/// services at locations with their location (addresses, phones, languages, accessibility, schedules).
/// Records linked to no service (unused taxonomy terms, an organisation's own phones) are not in this
/// form; use [`export_datapackage`] or [`export_ndjson`] for a complete copy.
pub fn export_json(dir: &Directory) -> Value {
    use crate::model::to_map;
    fn linked<T: serde::Serialize>(rows: impl Iterator<Item = T>) -> Value {
        Value::Array(rows.map(|r| Value::Object(to_map(&r))).collect())
    }
    let attrs = |id: &str| -> Value {
        Value::Array(
            dir.attribute
                .values()
                .filter(|a| a.link_id.as_deref() == Some(id))
                .map(|a| {
                    let mut m = to_map(a);
                    if let Some(t) = a
                        .taxonomy_term_id
                        .as_deref()
                        .and_then(|t| dir.taxonomy_term.get(t))
                    {
                        let mut tm = to_map(t);
                        if let Some(tx) = t.taxonomy_id.as_deref().and_then(|x| dir.taxonomy.get(x))
                        {
                            tm.insert("taxonomy_detail".into(), Value::Object(to_map(tx)));
                        }
                        m.insert("taxonomy_term".into(), Value::Object(tm));
                    }
                    Value::Object(m)
                })
                .collect(),
        )
    };
    let by = |v: &Option<String>, id: &str| v.as_deref() == Some(id);
    let mut out = Vec::new();
    for s in dir.service.values() {
        let id = s.id.as_str();
        let mut m = to_map(s);
        m.insert(
            "phones".into(),
            linked(
                dir.phone
                    .values()
                    .filter(|x| by(&x.service_id, id) && x.service_at_location_id.is_none()),
            ),
        );
        m.insert(
            "schedules".into(),
            linked(
                dir.schedule
                    .values()
                    .filter(|x| by(&x.service_id, id) && x.service_at_location_id.is_none()),
            ),
        );
        m.insert(
            "service_areas".into(),
            linked(dir.service_area.values().filter(|x| by(&x.service_id, id))),
        );
        m.insert(
            "languages".into(),
            linked(dir.language.values().filter(|x| by(&x.service_id, id))),
        );
        m.insert(
            "funding".into(),
            linked(dir.funding.values().filter(|x| by(&x.service_id, id))),
        );
        m.insert(
            "cost_options".into(),
            linked(dir.cost_option.values().filter(|x| by(&x.service_id, id))),
        );
        m.insert(
            "required_documents".into(),
            linked(
                dir.required_document
                    .values()
                    .filter(|x| by(&x.service_id, id)),
            ),
        );
        m.insert(
            "contacts".into(),
            linked(dir.contact.values().filter(|x| by(&x.service_id, id))),
        );
        m.insert(
            "additional_urls".into(),
            linked(dir.url.values().filter(|x| by(&x.service_id, id))),
        );
        m.insert("attributes".into(), attrs(id));
        if let Some(o) = s
            .organization_id
            .as_deref()
            .and_then(|o| dir.organization.get(o))
        {
            m.insert("organization".into(), Value::Object(to_map(o)));
        }
        let sals: Vec<Value> = dir
            .service_at_location
            .values()
            .filter(|x| by(&x.service_id, id))
            .map(|sal| {
                let sid = sal.id.as_str();
                let mut sm = to_map(sal);
                sm.insert(
                    "phones".into(),
                    linked(
                        dir.phone
                            .values()
                            .filter(|x| by(&x.service_at_location_id, sid)),
                    ),
                );
                sm.insert(
                    "schedules".into(),
                    linked(
                        dir.schedule
                            .values()
                            .filter(|x| by(&x.service_at_location_id, sid)),
                    ),
                );
                sm.insert(
                    "contacts".into(),
                    linked(
                        dir.contact
                            .values()
                            .filter(|x| by(&x.service_at_location_id, sid)),
                    ),
                );
                sm.insert(
                    "service_areas".into(),
                    linked(
                        dir.service_area
                            .values()
                            .filter(|x| by(&x.service_at_location_id, sid)),
                    ),
                );
                if let Some(l) = sal.location_id.as_deref().and_then(|l| dir.location.get(l)) {
                    let lid = l.id.as_str();
                    let mut lm = to_map(l);
                    lm.insert(
                        "addresses".into(),
                        linked(dir.address.values().filter(|x| by(&x.location_id, lid))),
                    );
                    lm.insert(
                        "phones".into(),
                        linked(dir.phone.values().filter(|x| by(&x.location_id, lid))),
                    );
                    lm.insert(
                        "languages".into(),
                        linked(dir.language.values().filter(|x| by(&x.location_id, lid))),
                    );
                    lm.insert(
                        "accessibility".into(),
                        linked(
                            dir.accessibility
                                .values()
                                .filter(|x| by(&x.location_id, lid)),
                        ),
                    );
                    lm.insert(
                        "schedules".into(),
                        linked(dir.schedule.values().filter(|x| {
                            by(&x.location_id, lid)
                                && x.service_id.is_none()
                                && x.service_at_location_id.is_none()
                        })),
                    );
                    sm.insert("location".into(), Value::Object(lm));
                }
                Value::Object(sm)
            })
            .collect();
        m.insert("service_at_locations".into(), Value::Array(sals));
        out.push(Value::Object(m));
    }
    Value::Array(out)
}
