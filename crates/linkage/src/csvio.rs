//! Reading records from CSV with errors that name the file, line and column.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::{ConfigError, LinkConfig};
use crate::data::{Dataset, RawColumn};

/// Why an input could not be read. Nothing is linked when any of these occurs.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file has no header or no records.
    #[error("{path}: the file is empty (a header row and at least one record are needed)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A row has a different number of fields from the header.
    #[error("{path}: line {line} has {found} fields but the header has {expected}")]
    Ragged {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Fields in the header.
        expected: u64,
        /// Fields on this line.
        found: u64,
    },
    /// A column named by the command or config is not in the header.
    #[error("{path}: no column `{column}` (columns: {available})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header.
        available: String,
    },
    /// Malformed CSV (e.g. invalid UTF-8).
    #[error("{path}: line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// The settings do not fit the input.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn map_csv(path: &Path, e: csv::Error) -> InputError {
    let line = e.position().map_or(0, csv::Position::line);
    match e.into_kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => InputError::Ragged {
            path: path.to_path_buf(),
            line: pos.map_or(line, |p| p.line()),
            expected: expected_len,
            found: len,
        },
        csv::ErrorKind::Io(io) => InputError::Io {
            path: path.to_path_buf(),
            message: io.to_string(),
        },
        other => InputError::Csv {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

fn open(path: &Path) -> Result<csv::Reader<std::fs::File>, InputError> {
    let file = std::fs::File::open(path).map_err(|e| InputError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(csv::ReaderBuilder::new().flexible(false).from_reader(file))
}

/// The header of a CSV file; an error when the file is empty.
pub fn read_header(path: &Path) -> Result<Vec<String>, InputError> {
    let mut rd = open(path)?;
    let headers = rd.headers().map_err(|e| map_csv(path, e))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].trim().is_empty()) {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(headers.iter().map(|h| h.trim().to_string()).collect())
}

/// Records of one stretch of a file: their ids and, per configured field, their raw values.
struct Chunk {
    ids: Vec<Box<str>>,
    raw: Vec<RawColumn>,
}

/// Bytes per stretch parsed by one task when a file is read in parallel.
const CHUNK_BYTES: usize = 1 << 22;

/// Parses `bytes` (whole records, no header) taking the id from field `id_at` and one value per
/// field in `at`. Every record must have `width` fields. Line numbers in errors count from 1 at the
/// first line of `bytes`.
fn parse_chunk(
    path: &Path,
    bytes: &[u8],
    id_at: usize,
    at: &[usize],
    width: usize,
) -> Result<Chunk, InputError> {
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::StringRecord::new();
    let mut chunk = Chunk {
        ids: Vec::new(),
        raw: vec![RawColumn::default(); at.len()],
    };
    while rd.read_record(&mut rec).map_err(|e| map_csv(path, e))? {
        if rec.len() != width {
            return Err(InputError::Ragged {
                path: path.to_path_buf(),
                line: rec.position().map_or(0, csv::Position::line),
                expected: width as u64,
                found: rec.len() as u64,
            });
        }
        for (col, &i) in chunk.raw.iter_mut().zip(at) {
            col.push(&rec[i]);
        }
        chunk.ids.push(rec[id_at].trim().into());
    }
    Ok(chunk)
}

/// Moves the line number of an error in a stretch that starts after `lines` lines of the file.
fn shift_line(err: InputError, lines: u64) -> InputError {
    match err {
        InputError::Ragged {
            path,
            line,
            expected,
            found,
        } => InputError::Ragged {
            path,
            line: line + lines,
            expected,
            found,
        },
        InputError::Csv {
            path,
            line,
            message,
        } => InputError::Csv {
            path,
            line: line + lines,
            message,
        },
        other => other,
    }
}

/// Splits the records after the header of a file without quotes into stretches of about
/// [`CHUNK_BYTES`] that end at line ends (with no quotes, every line end ends a record). Returns
/// each stretch with the number of lines before it; `None` when the file has quotes.
fn split_unquoted(bytes: &[u8]) -> Option<Vec<(&[u8], u64)>> {
    if memchr::memchr(b'"', bytes).is_some() {
        return None;
    }
    let body_start = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
    let mut parts = Vec::new();
    let mut start = body_start;
    while start < bytes.len() {
        let guess = (start + CHUNK_BYTES).min(bytes.len());
        let end = memchr::memchr(b'\n', &bytes[guess..]).map_or(bytes.len(), |i| guess + i + 1);
        parts.push(&bytes[start..end]);
        start = end;
    }
    let lines: Vec<u64> = parts
        .par_iter()
        .map(|p| memchr::memchr_iter(b'\n', p).count() as u64)
        .collect();
    let mut before = 1u64;
    Some(
        parts
            .into_iter()
            .zip(lines)
            .map(|(p, n)| {
                let at = before;
                before += n;
                (p, at)
            })
            .collect(),
    )
}

/// Reads every record of `path` into `data` as `source` (0 or 1), taking the id from `id_column`
/// and one value per configured field. Returns the number of records read. A file without quotes
/// is parsed in parallel, in stretches that end at line ends; one with quotes (whose fields may
/// hold line ends) in one pass.
pub fn load(
    path: &Path,
    id_column: &str,
    config: &LinkConfig,
    source: u8,
    data: &mut Dataset,
) -> Result<usize, InputError> {
    let header = read_header(path)?;
    let available = header.join(", ");
    let find = |column: &str| {
        header
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| InputError::MissingColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
                available: available.clone(),
            })
    };
    let id_at = find(id_column)?;
    let at: Vec<usize> = config
        .fields
        .iter()
        .map(|f| find(&f.column))
        .collect::<Result<_, _>>()?;
    let bytes = std::fs::read(path).map_err(|e| InputError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let width = header.len();
    let chunks: Vec<Chunk> = match split_unquoted(&bytes) {
        Some(parts) => parts
            .into_par_iter()
            .map(|(part, lines)| {
                parse_chunk(path, part, id_at, &at, width).map_err(|e| shift_line(e, lines))
            })
            .collect::<Result<_, _>>()?,
        None => {
            let mut rd = csv::ReaderBuilder::new().from_reader(&bytes[..]);
            rd.headers().map_err(|e| map_csv(path, e))?;
            let start = rd.position().byte() as usize;
            vec![
                parse_chunk(path, &bytes[start..], id_at, &at, width)
                    .map_err(|e| shift_line(e, rd.position().line() - 1))?,
            ]
        }
    };
    drop(bytes);
    let n: usize = chunks.iter().map(|c| c.ids.len()).sum();
    if n == 0 {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut ids = Vec::with_capacity(n);
    let mut raw: Vec<Vec<RawColumn>> = vec![Vec::with_capacity(chunks.len()); at.len()];
    for chunk in chunks {
        ids.extend(chunk.ids);
        for (all, col) in raw.iter_mut().zip(chunk.raw) {
            all.push(col);
        }
    }
    data.extend(ids, source, &raw);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn cfg() -> LinkConfig {
        LinkConfig::infer(&["id".into(), "name".into()], "id").unwrap()
    }

    #[test]
    fn a_ragged_row_is_reported_with_its_line() {
        let f = file("id,name\n1,ann\n2,bob,extra\n");
        let mut d = Dataset::new(&cfg());
        let err = load(f.path(), "id", &cfg(), 0, &mut d).unwrap_err();
        assert!(
            matches!(
                err,
                InputError::Ragged {
                    line: 3,
                    expected: 2,
                    found: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("line 3"));
    }

    #[test]
    fn an_empty_file_is_a_clear_error() {
        let f = file("");
        let err = read_header(f.path()).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let f = file("id,name\n");
        let mut d = Dataset::new(&cfg());
        let err = load(f.path(), "id", &cfg(), 0, &mut d).unwrap_err();
        assert!(matches!(err, InputError::Empty { .. }), "{err}");
    }

    #[test]
    fn a_missing_id_column_is_named() {
        let f = file("key,name\n1,ann\n");
        let mut d = Dataset::new(&cfg());
        let err = load(f.path(), "id", &cfg(), 0, &mut d)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`id`") && err.contains("key, name"), "{err}");
    }

    #[test]
    fn a_ragged_row_deep_in_a_file_read_in_parallel_keeps_its_line() {
        // More than two stretches of CHUNK_BYTES, no quotes: parsed in parallel.
        let mut text = String::from("id,name\n");
        let rows = 2 * CHUNK_BYTES / 12 + 1000;
        for i in 0..rows {
            text.push_str(&format!("{i},name{}\n", i % 977));
        }
        text.push_str("x,y,z\n");
        let f = file(&text);
        let mut d = Dataset::new(&cfg());
        let err = load(f.path(), "id", &cfg(), 0, &mut d).unwrap_err();
        let line = rows as u64 + 2;
        assert!(
            matches!(err, InputError::Ragged { line: l, found: 3, .. } if l == line),
            "{err}"
        );
        // Without the bad row every record is read, in order.
        let f = file(&text[..text.len() - "x,y,z\n".len()]);
        let mut d = Dataset::new(&cfg());
        assert_eq!(load(f.path(), "id", &cfg(), 0, &mut d).unwrap(), rows);
        assert_eq!(&*d.ids[rows - 1], (rows - 1).to_string());
        assert_eq!(
            d.columns[0].value(d.columns[0].codes[978]).text.as_ref(),
            "name1"
        );
    }

    #[test]
    fn quoted_line_ends_are_read_in_one_pass_with_true_line_numbers() {
        let f = file("id,name\n1,\"Ann\nMarie\"\n2,Bob\n3,Cy,extra\n");
        let mut d = Dataset::new(&cfg());
        let err = load(f.path(), "id", &cfg(), 0, &mut d).unwrap_err();
        assert!(matches!(err, InputError::Ragged { line: 5, .. }), "{err}");
        let f = file("id,name\n1,\"Ann\nMarie\"\n2,Bob\n");
        let mut d = Dataset::new(&cfg());
        assert_eq!(load(f.path(), "id", &cfg(), 0, &mut d).unwrap(), 2);
        assert_eq!(&*d.columns[0].value(1).text, "ann marie");
    }

    #[test]
    fn records_load_with_their_ids() {
        let f = file("id,name\n1,Ann\n2,\n");
        let mut d = Dataset::new(&cfg());
        assert_eq!(load(f.path(), "id", &cfg(), 0, &mut d).unwrap(), 2);
        assert_eq!(&*d.ids[1], "2");
        assert_eq!(d.columns[0].codes, [1, 0]);
    }
}
