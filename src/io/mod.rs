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

use std::borrow::Cow;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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
    fn text(&self, name: &str) -> Result<Option<Cow<'_, str>>, RecordError> {
        Ok(self.get(name)?.map(Cow::Owned))
    }
}

/// One field of a JSON record (or a key), as [`Fields`] reads it. Every value of a record is
/// read as one, those the spec does not name too, and then dropped: so each is checked as a
/// `serde_json::Value` tree checked it (numbers in range, escapes, nesting depth), where
/// `serde::de::IgnoredAny` would only skip it, and a record the tree rejected is still
/// rejected, with the same message.
#[derive(Debug)]
enum JsonScalar<'a> {
    Null,
    /// Borrowed from the record when it holds no escape.
    Str(Cow<'a, str>),
    Number(serde_json::Number),
    Bool(bool),
    /// An array or an object.
    Other,
}

impl<'de> Deserialize<'de> for JsonScalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonScalar<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(JsonScalar::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
                Ok(JsonScalar::Bool(b))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
                Ok(JsonScalar::Number(n.into()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
                Ok(JsonScalar::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
                // As `serde_json::Value` reads it (a JSON number is always finite).
                Ok(serde_json::Number::from_f64(n).map_or(JsonScalar::Null, JsonScalar::Number))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(JsonScalar::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(JsonScalar::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(JsonScalar::Str(Cow::Owned(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<JsonScalar>()?.is_some() {}
                Ok(JsonScalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<JsonScalar, JsonScalar>()?.is_some() {}
                Ok(JsonScalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The fields of a JSON record that a [`RecordSpec`] reads, each value the last one given (as
/// in a `serde_json::Map`), the others read and dropped ([`JsonScalar`]): a tree of the whole
/// record, and a copy of its text, cost 3% of a scan. Tested to read every record as
/// that tree did, but for one key: `serde_json`'s private raw-value marker, which its tree
/// treated as a wrapped document, is an ordinary key here.
struct JsonRecord<'a> {
    fields: Vec<(&'a str, JsonScalar<'a>)>,
}

impl Fields for JsonRecord<'_> {
    fn get(&self, name: &str) -> Result<Option<String>, RecordError> {
        match self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v) {
            None | Some(JsonScalar::Null) => Ok(None),
            Some(JsonScalar::Str(s)) => Ok(Some(s.to_string())),
            Some(JsonScalar::Number(n)) => Ok(Some(n.to_string())),
            Some(JsonScalar::Bool(b)) => Ok(Some(b.to_string())),
            Some(JsonScalar::Other) => Err(RecordError::NotString(name.to_string())),
        }
    }
    fn text(&self, name: &str) -> Result<Option<Cow<'_, str>>, RecordError> {
        match self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v) {
            None | Some(JsonScalar::Null) => Ok(None),
            Some(JsonScalar::Str(s)) => Ok(Some(Cow::Borrowed(s))),
            Some(_) => Err(RecordError::NotString(name.to_string())),
        }
    }
}

/// Reads one JSON record: the fields its spec names, or what kind of JSON value it is when it
/// is not an object.
struct JsonRecordSeed<'s>(&'s RecordSpec);

impl<'de> DeserializeSeed<'de> for JsonRecordSeed<'de> {
    type Value = Result<JsonRecord<'de>, &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonRecordSeed<'de> {
    type Value = Result<JsonRecord<'de>, &'static str>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<(&'de str, JsonScalar<'de>)> = Vec::new();
        while let Some(key) = map.next_key::<JsonScalar>()? {
            // serde_json reads every key as a string.
            let name = match &key {
                JsonScalar::Str(key) => self.0.field_name(key),
                _ => None,
            };
            match name {
                Some(name) => {
                    let value = map.next_value::<JsonScalar>()?;
                    match fields.iter_mut().find(|(n, _)| *n == name) {
                        Some(slot) => slot.1 = value,
                        None => fields.push((name, value)),
                    }
                }
                None => {
                    map.next_value::<JsonScalar>()?;
                }
            }
        }
        Ok(Ok(JsonRecord { fields }))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("boolean"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("string"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<JsonScalar>()?.is_some() {}
        Ok(Err("array"))
    }
}

struct CsvFields<'a> {
    header: &'a csv::StringRecord,
    row: &'a csv::StringRecord,
}

impl CsvFields<'_> {
    /// The cell of the column named `name`, if there is one.
    fn cell(&self, name: &str) -> Option<&str> {
        let column = self.header.iter().position(|h| h == name)?;
        self.row.get(column)
    }
}

impl Fields for CsvFields<'_> {
    fn get(&self, name: &str) -> Result<Option<String>, RecordError> {
        Ok(self.cell(name).map(str::to_string))
    }
    fn text(&self, name: &str) -> Result<Option<Cow<'_, str>>, RecordError> {
        Ok(self.cell(name).map(Cow::Borrowed))
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
                let Ok(json) = std::str::from_utf8(bytes) else {
                    return (self.id_despite_bad_bytes(bytes), Err(RecordError::Utf8));
                };
                let mut de = serde_json::Deserializer::from_str(json);
                let record = match JsonRecordSeed(self)
                    .deserialize(&mut de)
                    .and_then(|r| de.end().map(|()| r))
                {
                    Ok(Ok(record)) => record,
                    Ok(Err(kind)) => return (None, Err(RecordError::NotObject(kind))),
                    Err(e) => return (None, Err(RecordError::Json(e.to_string()))),
                };
                self.fields_to_ad(&record, position)
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

    /// The id of a JSON record that is not UTF-8, if it is readable despite the bad bytes, so
    /// that its error names it.
    fn id_despite_bad_bytes(&self, bytes: &[u8]) -> Option<String> {
        let lossy = String::from_utf8_lossy(bytes);
        let record = serde_json::from_str::<Value>(&lossy).ok()?;
        match record.get(&self.id_field)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The spec's name for a record field named `key`, if the spec reads it.
    fn field_name(&self, key: &str) -> Option<&str> {
        std::iter::once(&self.id_field)
            .chain(&self.text_fields)
            .chain(&self.label_field)
            .chain(&self.meta_fields)
            .find(|name| *name == key)
            .map(String::as_str)
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
                    if text.is_empty() {
                        // One text field, the usual case: no second copy when the parse owns it.
                        text = v.into_owned();
                    } else if !v.is_empty() {
                        text.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &RecordSpec, line: &str) -> (Option<String>, Result<Parsed, RecordError>) {
        spec.parse(&RawBody::Json(line.as_bytes().to_vec()), None, 9)
    }

    fn text(line: &str) -> Result<String, RecordError> {
        parse(&RecordSpec::default(), line).1.map(|p| p.ad.text)
    }

    #[test]
    fn json_records_read_only_the_fields_the_spec_names() {
        // The last of repeated keys counts, as in a `serde_json::Map`.
        assert_eq!(text(r#"{"text":"a","text":"b"}"#).as_deref(), Ok("b"));
        assert_eq!(text(r#"{"text":5,"text":"b"}"#).as_deref(), Ok("b"));
        // A key written with an escape is the same key.
        assert_eq!(
            text(r#"{"te\u0078t":"esc \"q\" \u00e9"}"#).as_deref(),
            Ok("esc \"q\" é")
        );
        // Fields the spec does not read are read in full, however deep, and checked as a tree
        // of the record would check them.
        assert_eq!(
            text(r#"{"x":{"y":[1,{"z":null}]},"text":"t"}"#).as_deref(),
            Ok("t")
        );
        assert_eq!(
            text(r#"{"n":1e400,"text":"t"}"#),
            Err(RecordError::Json(
                "number out of range at line 1 column 10".into()
            ))
        );
        for (value, kind) in [
            ("null", "null"),
            ("true", "boolean"),
            ("-1.5", "number"),
            (r#""s""#, "string"),
            ("[1,[2]]", "array"),
        ] {
            assert_eq!(text(value), Err(RecordError::NotObject(kind)), "{value}");
        }
        for value in ["5", "[]", "{}"] {
            let line = format!(r#"{{"id":"x","text":{value}}}"#);
            assert_eq!(
                parse(&RecordSpec::default(), &line),
                (Some("x".into()), Err(RecordError::NotString("text".into())))
            );
        }
        assert_eq!(
            text(r#"{"id":"x","text":null}"#),
            Err(RecordError::MissingText("text".into()))
        );
        assert!(matches!(
            text(r#"{"text":"a"} x"#),
            Err(RecordError::Json(_))
        ));
    }

    #[test]
    fn json_ids_labels_and_metadata_read_as_before() {
        let spec = RecordSpec {
            text_fields: vec!["title".into(), "body".into()],
            id_field: "id".into(),
            label_field: Some("label".into()),
            meta_fields: vec!["logo".into(), "absent".into()],
        };
        let (id, parsed) = parse(
            &spec,
            r#"{"body":"b","id":7.50,"label":1,"logo":false,"title":"t","other":[1]}"#,
        );
        let parsed = parsed.unwrap();
        assert_eq!(id.as_deref(), Some("7.5"));
        assert_eq!(parsed.ad.text, "t\nb");
        assert_eq!(parsed.label, Some(true));
        assert_eq!(parsed.ad.meta, vec![("logo".into(), "false".into())]);
        // No id: the record's position.
        let (id, parsed) = parse(&spec, r#"{"title":"","body":"b","label":"ham"}"#);
        assert_eq!((id, parsed.map(|p| p.ad.id)), (None, Ok("9".into())));
    }

    /// The parse before session 13, the reference: a `serde_json::Value` tree of the record.
    fn parse_as_tree(
        spec: &RecordSpec,
        bytes: &[u8],
    ) -> (Option<String>, Result<Parsed, RecordError>) {
        struct Tree(serde_json::Map<String, Value>);
        impl Fields for Tree {
            fn get(&self, name: &str) -> Result<Option<String>, RecordError> {
                match self.0.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    Some(Value::Bool(b)) => Ok(Some(b.to_string())),
                    Some(_) => Err(RecordError::NotString(name.to_string())),
                }
            }
            fn text(&self, name: &str) -> Result<Option<Cow<'_, str>>, RecordError> {
                match self.0.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(Cow::Borrowed(s))),
                    Some(_) => Err(RecordError::NotString(name.to_string())),
                }
            }
        }
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(_) if std::str::from_utf8(bytes).is_err() => {
                return (spec.id_despite_bad_bytes(bytes), Err(RecordError::Utf8));
            }
            Err(e) => return (None, Err(RecordError::Json(e.to_string()))),
        };
        let kind = match &value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        match value {
            Value::Object(map) => spec.fields_to_ad(&Tree(map), 9),
            _ => (None, Err(RecordError::NotObject(kind))),
        }
    }

    fn two_fields() -> RecordSpec {
        RecordSpec {
            text_fields: vec!["text".into(), "body".into()],
            meta_fields: vec!["m".into()],
            ..RecordSpec::default()
        }
    }

    /// Records the tree-building parse rejected, or read otherwise, found in review: numbers out
    /// of range, lone surrogates and deep nesting inside arrays, repeated keys, a trailing comma.
    #[test]
    fn json_records_parse_as_a_tree_of_them_would() {
        let deep = format!(
            r#"{{"id":"a","text":{}1{}}}"#,
            "[".repeat(129),
            "]".repeat(129)
        );
        let lines = [
            r#"{"id":"a","text":[1e400],"text":"hello"}"#,
            r#"{"id":["\ud800"],"text":"hello"}"#,
            r#"{"id":"a","text":[1e400]}"#,
            r#"{"id":"a","text":{"k":1e400}}"#,
            r#"[1e400]"#,
            r#"["\ud800"]"#,
            r#"{"id":"a","text":[[1,]]}"#,
            r#"{"z":{"a":1,},"text":"t"}"#,
            "{\"id\":\"a\",\"text\":\"t\",\"z\":\"\u{1}\"}",
            r#"{"id":"a","text":"t","z":4.9e}"#,
            r#"{"id":18446744073709551616,"text":"t","m":-0.0}"#,
            r#"{"id":-9223372036854775809,"body":"b","text":""}"#,
            r#"{"te\u0078t":"a","text":"b","body":{"x":[]}}"#,
            r#"{"id":"a","text":"x"} {"#,
            "\u{feff}{\"text\":\"bom\"}",
            &deep,
        ];
        let spec = two_fields();
        for line in lines {
            let raw = RawBody::Json(line.as_bytes().to_vec());
            assert_eq!(
                spec.parse(&raw, None, 9),
                parse_as_tree(&spec, line.as_bytes()),
                "{line}"
            );
        }
    }

    proptest::proptest! {
        /// Records of the spec's fields and others, with values well and badly formed, some
        /// cut short or run on: read as the tree-building parse read them.
        #[test]
        fn json_records_parse_as_a_tree_of_them_would_on_random_records(
            fields in proptest::collection::vec((
                proptest::sample::select(vec!["text", "body", "id", "m", "x", "te\\u0078t"]),
                proptest::sample::select(vec![
                    r#""a b""#, r#""\n\u00e9""#, r#""\ud800""#, r#""\q""#, "1", "-0", "1.5e3",
                    "1e400", "18446744073709551616", "null", "true", "[]", "{}", "[1e400]",
                    r#"["\ud800"]"#, r#"{"k":1e400}"#, "[[1,]]", r#"{"a":1,}"#, "[1,[2,{}]]",
                    r#"{"k":[null,"v"]}"#, "tru", "[1", "\"open",
                ]),
            ), 0..6),
            run_on in proptest::sample::select(vec!["", "", "", " ", "x", "}", ",", "{}"]),
        ) {
            let body: Vec<String> = fields.iter().map(|(k, v)| format!(r#""{k}":{v}"#)).collect();
            let line = format!("{{{}}}{run_on}", body.join(","));
            let spec = two_fields();
            let raw = RawBody::Json(line.as_bytes().to_vec());
            proptest::prop_assert_eq!(
                spec.parse(&raw, None, 9),
                parse_as_tree(&spec, line.as_bytes()),
                "{}", line
            );
        }
    }
}
