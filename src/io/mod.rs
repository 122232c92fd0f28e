//! Input and output at the edges: streaming readers for JSON Lines and CSV that number every
//! record, the parser that turns a raw record into an [`Ad`] (or a [`RecordError`] naming what is
//! wrong), and the writers for verdicts and error records.
//!
//! Invariants: a reader yields every record of its input exactly once, in order, with the line
//! it starts on; a record that cannot be read becomes a `RawBody::Error`, never a silent skip
//! (blank lines are not records); memory is bounded by `max_record_bytes` per record.

mod read;
pub mod scan;
mod write;

pub use read::{InputFormat, RawBody, RawRecord, RecordReader, DEFAULT_MAX_RECORD_BYTES};
pub use write::{error_json, OutputFormat, VerdictWriter, CSV_HEADER};

use serde_json::Value;

use crate::ad::Ad;

/// Why one record could not be screened. It becomes an error record in the output; the run
/// goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("record is a JSON {0}, not an object")]
    NotObject(&'static str),
    #[error("no text: none of the fields {0} is present")]
    MissingText(String),
    #[error("field {0:?} is not a string")]
    NotString(String),
    #[error("invalid UTF-8 in record")]
    Utf8,
    #[error("record is longer than {0} bytes (--max-record-bytes); skipped to the next line")]
    TooLong(usize),
    #[error("CSV row has {found} fields, the header has {expected}")]
    Ragged { found: usize, expected: usize },
    #[error("CSV: {0}")]
    Csv(String),
    #[error("CSV: a quote opened in this record is never closed; the rest of the input was read as part of it and is not screened")]
    UnclosedQuote,
    #[error("label field {0:?}: {1}")]
    Label(String, String),
}

/// Which fields of a record hold what.
#[derive(Debug, Clone)]
pub struct RecordSpec {
    /// Joined with newlines to make the ad text.
    pub text_fields: Vec<String>,
    pub id_field: String,
    /// Read only for training and evaluation.
    pub label_field: Option<String>,
    pub meta_fields: Vec<String>,
}

impl Default for RecordSpec {
    fn default() -> Self {
        RecordSpec {
            text_fields: vec!["text".into()],
            id_field: "id".into(),
            label_field: None,
            meta_fields: Vec::new(),
        }
    }
}

/// A record turned into an ad (and its label, when the spec asks for one).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub ad: Ad,
    pub label: Option<bool>,
}

/// A record's fields, whatever format it came in.
trait Fields {
    /// `Ok(None)` when absent or null, `Err` when present but not a scalar.
    fn get(&self, name: &str) -> Result<Option<String>, RecordError>;
    /// Like `get`, but only a string is text: `{"text": 5}` is an error, not the ad "5".
    fn text(&self, name: &str) -> Result<Option<String>, RecordError> {
        self.get(name)
    }
}

impl Fields for serde_json::Map<String, Value> {
    fn get(&self, name: &str) -> Result<Option<String>, RecordError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(RecordError::NotString(name.to_string())),
        }
    }
    fn text(&self, name: &str) -> Result<Option<String>, RecordError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(RecordError::NotString(name.to_string())),
        }
    }
}

struct CsvFields<'a> {
    header: &'a csv::StringRecord,
    row: &'a csv::StringRecord,
}

impl Fields for CsvFields<'_> {
    fn get(&self, name: &str) -> Result<Option<String>, RecordError> {
        Ok(self
            .header
            .iter()
            .position(|h| h == name)
            .and_then(|i| self.row.get(i))
            .map(str::to_string))
    }
}

impl RecordSpec {
    /// The id a record shows in output even when it cannot be parsed: its id field if readable,
    /// else its position (1-based record number).
    pub fn fallback_id(position: u64) -> String {
        position.to_string()
    }

    /// Parses a raw record. `position` is its 1-based record number, the id when it has none.
    pub fn parse(
        &self,
        raw: &RawBody,
        header: Option<&csv::StringRecord>,
        position: u64,
    ) -> (Option<String>, Result<Parsed, RecordError>) {
        match raw {
            RawBody::Error(e) => (None, Err(e.clone())),
            RawBody::Json(bytes) => {
                let value: Value = match serde_json::from_slice(bytes) {
                    Ok(v) => v,
                    Err(e) => {
                        let msg = if std::str::from_utf8(bytes).is_err() {
                            // Name the record if its id is readable despite the bad bytes.
                            let lossy = String::from_utf8_lossy(bytes);
                            let id =
                                serde_json::from_str::<Value>(&lossy).ok().and_then(|v| {
                                    match v.get(&self.id_field)? {
                                        Value::String(s) => Some(s.clone()),
                                        Value::Number(n) => Some(n.to_string()),
                                        _ => None,
                                    }
                                });
                            return (id, Err(RecordError::Utf8));
                        } else {
                            e.to_string()
                        };
                        return (None, Err(RecordError::Json(msg)));
                    }
                };
                let Value::Object(map) = value else {
                    return (None, Err(RecordError::NotObject(json_kind(&value))));
                };
                self.fields_to_ad(&map, position)
            }
            RawBody::Csv(row) => {
                let Some(header) = header else {
                    return (None, Err(RecordError::Csv("no header".into())));
                };
                if row.len() != header.len() {
                    let fields = CsvFields { header, row };
                    let id = fields.get(&self.id_field).ok().flatten();
                    return (
                        id,
                        Err(RecordError::Ragged {
                            found: row.len(),
                            expected: header.len(),
                        }),
                    );
                }
                self.fields_to_ad(&CsvFields { header, row }, position)
            }
        }
    }

    fn fields_to_ad(
        &self,
        f: &impl Fields,
        position: u64,
    ) -> (Option<String>, Result<Parsed, RecordError>) {
        let id = f.get(&self.id_field).ok().flatten();
        let result = (|| {
            let mut text = String::new();
            let mut present = false;
            for name in &self.text_fields {
                if let Some(v) = f.text(name)? {
                    present = true;
                    if !v.is_empty() {
                        if !text.is_empty() {
                            text.push('\n');
                        }
                        text.push_str(&v);
                    }
                }
            }
            if !present {
                return Err(RecordError::MissingText(self.text_fields.join(",")));
            }
            let label = match &self.label_field {
                None => None,
                Some(l) => Some(parse_label(l, f.get(l)?)?),
            };
            let mut meta = Vec::new();
            for m in &self.meta_fields {
                if let Ok(Some(v)) = f.get(m) {
                    meta.push((m.clone(), v));
                }
            }
            Ok(Parsed {
                ad: Ad {
                    id: id.clone().unwrap_or_else(|| Self::fallback_id(position)),
                    text,
                    meta,
                },
                label,
            })
        })();
        (id, result)
    }
}

fn parse_label(field: &str, v: Option<String>) -> Result<bool, RecordError> {
    let bad = |why: &str| RecordError::Label(field.to_string(), why.to_string());
    match v.as_deref().map(str::trim) {
        None => Err(bad("missing")),
        Some("1" | "1.0" | "true" | "True" | "yes" | "spam" | "fraudulent") => Ok(true),
        Some("0" | "0.0" | "false" | "False" | "no" | "ham" | "legit") => Ok(false),
        Some(other) => Err(bad(&format!("{other:?} is not 0/1/true/false"))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
