//! Output records: one per input record, a verdict or an error, as JSON Lines or flattened CSV.

use serde::Serialize;

use crate::ad::Verdict;

/// Output format of `adscreen scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Csv,
}

/// Columns of the CSV output. Nested fields (evidence, entities, terms) are JSON in one cell.
pub const CSV_HEADER: &[&str] = &[
    "id",
    "line",
    "score",
    "flagged",
    "band",
    "indicators",
    "evidence",
    "entities",
    "amp_action",
    "amp_means",
    "amp_purpose",
    "amp_complete",
    "terms",
    "truncated",
    "model",
    "error",
];

/// Turns verdicts and errors into output bytes. Stateless: safe to call from many threads and
/// concatenate in input order.
#[derive(Debug, Clone, Copy)]
pub struct VerdictWriter {
    pub format: OutputFormat,
}

#[derive(Serialize)]
struct ErrorRecord<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    input: &'a str,
    line: u64,
    error: String,
}

/// The JSON error record for one input record.
pub fn error_json(input: &str, line: u64, id: Option<&str>, error: &str) -> String {
    serde_json::to_string(&ErrorRecord {
        id,
        input,
        line,
        error: error.to_string(),
    })
    .unwrap_or_else(|_| format!("{{\"line\":{line},\"error\":\"unprintable error\"}}"))
}

impl VerdictWriter {
    /// The CSV header line, or nothing for JSON Lines.
    pub fn header(&self) -> Vec<u8> {
        match self.format {
            OutputFormat::Jsonl => Vec::new(),
            OutputFormat::Csv => csv_row(CSV_HEADER.iter().map(|s| s.to_string())),
        }
    }

    /// Appends one verdict (with the line it came from) to `out`.
    pub fn verdict(&self, v: &Verdict, line: u64, out: &mut Vec<u8>) {
        match self.format {
            OutputFormat::Jsonl => {
                // Serialising plain data into a Vec cannot fail.
                if serde_json::to_writer(&mut *out, v).is_err() {
                    out.extend_from_slice(b"{\"error\":\"unserialisable verdict\"}");
                }
                out.push(b'\n');
            }
            OutputFormat::Csv => {
                let json = |x: &dyn erased::Ser| x.json();
                let evidence: Vec<_> = v
                    .indicators
                    .iter()
                    .flat_map(|i| {
                        i.evidence.iter().map(move |e| {
                            serde_json::json!({"indicator": i.id, "start": e.start, "end": e.end, "text": e.text})
                        })
                    })
                    .collect();
                let row = [
                    v.id.clone(),
                    line.to_string(),
                    format!("{:.6}", v.score),
                    v.flagged.to_string(),
                    json(&v.band).trim_matches('"').to_string(),
                    v.indicators
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                    json(&evidence),
                    json(&v.entities),
                    v.amp.action.join(";"),
                    v.amp.means.join(";"),
                    v.amp.purpose.join(";"),
                    v.amp.complete.to_string(),
                    json(&v.terms),
                    v.truncated.to_string(),
                    format!("{} {}", v.model.name, v.model.version),
                    String::new(),
                ];
                out.extend_from_slice(&csv_row(row.into_iter()));
            }
        }
    }

    /// Appends one error record to `out`.
    pub fn error(&self, input: &str, line: u64, id: Option<&str>, error: &str, out: &mut Vec<u8>) {
        match self.format {
            OutputFormat::Jsonl => {
                out.extend_from_slice(error_json(input, line, id, error).as_bytes());
                out.push(b'\n');
            }
            OutputFormat::Csv => {
                let mut row = vec![String::new(); CSV_HEADER.len()];
                row[0] = id.unwrap_or_default().to_string();
                row[1] = line.to_string();
                row[CSV_HEADER.len() - 1] = format!("{input}: {error}");
                out.extend_from_slice(&csv_row(row.into_iter()));
            }
        }
    }
}

fn csv_row(fields: impl Iterator<Item = String>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let fields: Vec<String> = fields.collect();
    // Writing to a Vec cannot fail.
    let _ = w.write_record(&fields);
    w.into_inner().unwrap_or_default()
}

/// `serde_json::to_string` behind a small object-safe trait, so the CSV row can be built from a
/// list of differently typed fields.
mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
