//! Streaming record readers: JSON Lines (one object per line, bounded line length) and CSV with a
//! header (quoted fields may hold newlines).

use std::io::{self, BufRead};
use std::path::Path;

use super::RecordError;

/// Longest record kept in memory; a longer line becomes an error record and the reader skips to
/// the next newline without buffering it. 64 MiB holds any real ad many times over.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

/// Input format of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    Jsonl,
    Csv,
}

impl InputFormat {
    /// By extension: `.csv` and `.tsv`… are CSV, everything else (`.jsonl`, `.ndjson`, `.json`,
    /// stdin) JSON Lines.
    pub fn from_path(path: &Path) -> InputFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => InputFormat::Csv,
            _ => InputFormat::Jsonl,
        }
    }
}

/// One record as read, before parsing.
#[derive(Debug, Clone)]
pub enum RawBody {
    /// The bytes of one JSON line (without the line end).
    Json(Vec<u8>),
    /// One CSV row.
    Csv(csv::StringRecord),
    /// A record that could not even be read as a unit.
    Error(RecordError),
}

/// A record and where it starts.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// 1-based line number of the record's first line.
    pub line: u64,
    pub body: RawBody,
}

/// Reads records from one input.
pub enum RecordReader<R: BufRead> {
    Jsonl(JsonlReader<R>),
    Csv(CsvReader<R>),
}

impl<R: BufRead> RecordReader<R> {
    /// A reader for `format`. For CSV the header is read here; an unreadable header is an error
    /// for the whole input.
    pub fn new(input: R, format: InputFormat, max_record_bytes: usize) -> io::Result<Self> {
        Ok(match format {
            InputFormat::Jsonl => RecordReader::Jsonl(JsonlReader {
                input,
                line: 0,
                max: max_record_bytes,
                first: true,
            }),
            InputFormat::Csv => {
                let mut rdr = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(true)
                    .from_reader(input);
                let header = rdr
                    .headers()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
                    .clone();
                RecordReader::Csv(CsvReader { rdr, header })
            }
        })
    }

    /// The CSV header (None for JSON Lines).
    pub fn header(&self) -> Option<&csv::StringRecord> {
        match self {
            RecordReader::Csv(c) => Some(&c.header),
            RecordReader::Jsonl(_) => None,
        }
    }

    /// The next record; `Ok(None)` at the end; `Err` only when the input itself fails.
    pub fn next_record(&mut self) -> io::Result<Option<RawRecord>> {
        match self {
            RecordReader::Jsonl(r) => r.next_record(),
            RecordReader::Csv(r) => r.next_record(),
        }
    }
}

pub struct JsonlReader<R> {
    input: R,
    line: u64,
    max: usize,
    first: bool,
}

impl<R: BufRead> JsonlReader<R> {
    fn next_record(&mut self) -> io::Result<Option<RawRecord>> {
        loop {
            let mut buf = Vec::new();
            let mut too_long = false;
            let mut saw_any = false;
            // Read one line, keeping at most `max` bytes of it.
            loop {
                let avail = match self.input.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if avail.is_empty() {
                    break;
                }
                saw_any = true;
                let (chunk, done) = match memchr_newline(avail) {
                    Some(i) => (&avail[..i], Some(i + 1)),
                    None => (avail, None),
                };
                if !too_long {
                    if buf.len() + chunk.len() > self.max {
                        too_long = true;
                        buf = Vec::new();
                    } else {
                        buf.extend_from_slice(chunk);
                    }
                }
                let used = done.unwrap_or(avail.len());
                self.input.consume(used);
                if done.is_some() {
                    break;
                }
            }
            if !saw_any {
                return Ok(None);
            }
            self.line += 1;
            if self.first {
                self.first = false;
                if buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                }
            }
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            let line = self.line;
            if too_long {
                return Ok(Some(RawRecord {
                    line,
                    body: RawBody::Error(RecordError::TooLong(self.max)),
                }));
            }
            // Blank lines separate nothing and are not records.
            if buf.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Ok(Some(RawRecord {
                line,
                body: RawBody::Json(buf),
            }));
        }
    }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

pub struct CsvReader<R> {
    rdr: csv::Reader<R>,
    header: csv::StringRecord,
}

impl<R: BufRead> CsvReader<R> {
    fn next_record(&mut self) -> io::Result<Option<RawRecord>> {
        let mut row = csv::ByteRecord::new();
        match self.rdr.read_byte_record(&mut row) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = row.position().map_or(0, |p| p.line());
                let body = match csv::StringRecord::from_byte_record(row) {
                    Ok(r) => RawBody::Csv(r),
                    Err(_) => RawBody::Error(RecordError::Utf8),
                };
                Ok(Some(RawRecord { line, body }))
            }
            Err(e) => match e.into_kind() {
                csv::ErrorKind::Io(io) => Err(io),
                other => {
                    let line = 0;
                    Ok(Some(RawRecord {
                        line,
                        body: RawBody::Error(RecordError::Csv(format!("{other:?}"))),
                    }))
                }
            },
        }
    }
}
