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
    Csv(CsvReader<LineTracker<R>>),
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
                    .from_reader(LineTracker::new(input));
                let header = rdr
                    .headers()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
                    .clone();
                RecordReader::Csv(CsvReader {
                    rdr,
                    header,
                    max: max_record_bytes,
                    pending: None,
                })
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
                let (chunk, done) = match memchr::memchr(b'\n', avail) {
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

/// Watches the bytes the CSV parser reads: where lines start (the `csv` crate's own line count
/// drifts after CRLF line ends and blank lines) and whether the input ended inside a quoted
/// field (which `csv` accepts silently, swallowing every row after a stray quote).
pub struct LineTracker<R> {
    inner: R,
    /// Byte offset of the next byte to be read.
    offset: u64,
    /// Offsets of newlines read but not yet passed by a record start, and whether a `\r`
    /// came just before each.
    newlines: std::collections::VecDeque<(u64, bool)>,
    last_was_cr: bool,
    /// Lines wholly before the last record start asked about.
    passed: u64,
    quote: QuoteState,
}

/// RFC 4180 quoting as `csv` reads it: a quote opens a quoted field only at the start of a
/// field; inside, `""` is a literal quote and a lone `"` closes the field.
#[derive(Clone, Copy, PartialEq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote seen inside a quoted field: the next byte says whether it was `""`.
    QuoteInQuoted,
}

impl<R> LineTracker<R> {
    fn new(inner: R) -> Self {
        LineTracker {
            inner,
            offset: 0,
            newlines: std::collections::VecDeque::new(),
            passed: 0,
            last_was_cr: false,
            quote: QuoteState::FieldStart,
        }
    }

    /// 1-based line on which a record reported at byte `at` starts; `at` must not decrease
    /// between calls. `csv` reports a record at the end of the previous one, so line ends
    /// (`\n`, `\r\n`) and blank lines right at `at` are skipped first.
    fn line_of(&mut self, at: u64) -> u64 {
        let mut p = at;
        while let Some(&(n, cr)) = self.newlines.front() {
            if n <= p || (cr && n == p + 1) {
                self.newlines.pop_front();
                self.passed += 1;
                p = p.max(n + 1);
            } else {
                break;
            }
        }
        self.passed + 1
    }
}

impl<R: io::Read> io::Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' {
                self.newlines
                    .push_back((self.offset + i as u64, self.last_was_cr));
            }
            self.last_was_cr = b == b'\r';
            self.quote = match (self.quote, b) {
                (QuoteState::FieldStart, b'"') => QuoteState::Quoted,
                (QuoteState::Quoted, b'"') => QuoteState::QuoteInQuoted,
                (QuoteState::Quoted, _) => QuoteState::Quoted,
                (QuoteState::QuoteInQuoted, b'"') => QuoteState::Quoted,
                (_, b',' | b'\n' | b'\r') => QuoteState::FieldStart,
                _ => QuoteState::Unquoted,
            };
        }
        self.offset += n as u64;
        Ok(n)
    }
}

pub struct CsvReader<R> {
    rdr: csv::Reader<R>,
    header: csv::StringRecord,
    max: usize,
    /// A record read ahead, to learn whether it was the last one.
    pending: Option<(csv::ByteRecord, u64)>,
}

impl<R: io::Read> CsvReader<LineTracker<R>> {
    fn read_one(&mut self) -> io::Result<Option<Result<(csv::ByteRecord, u64), RecordError>>> {
        let mut row = csv::ByteRecord::new();
        match self.rdr.read_byte_record(&mut row) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let at = row.position().map_or(0, |p| p.byte());
                let line = self.rdr.get_mut().line_of(at);
                Ok(Some(Ok((row, line))))
            }
            Err(e) => match e.into_kind() {
                csv::ErrorKind::Io(io) => Err(io),
                other => Ok(Some(Err(RecordError::Csv(format!("{other:?}"))))),
            },
        }
    }

    fn next_record(&mut self) -> io::Result<Option<RawRecord>> {
        let current = match self.pending.take() {
            Some(p) => Some(Ok(p)),
            None => self.read_one()?,
        };
        let (row, line) = match current {
            None => return Ok(None),
            Some(Err(e)) => {
                return Ok(Some(RawRecord {
                    line: 0,
                    body: RawBody::Error(e),
                }))
            }
            Some(Ok(r)) => r,
        };
        // Read ahead: only then is it known whether this record ran to the end of the input.
        match self.read_one()? {
            Some(Ok(next)) => self.pending = Some(next),
            Some(Err(e)) => {
                return Ok(Some(RawRecord {
                    line,
                    body: RawBody::Error(e),
                }))
            }
            None => {
                if self.rdr.get_ref().quote == QuoteState::Quoted {
                    return Ok(Some(RawRecord {
                        line,
                        body: RawBody::Error(RecordError::UnclosedQuote),
                    }));
                }
            }
        }
        if row.as_slice().len() > self.max {
            return Ok(Some(RawRecord {
                line,
                body: RawBody::Error(RecordError::TooLong(self.max)),
            }));
        }
        let body = match csv::StringRecord::from_byte_record(row) {
            Ok(r) => RawBody::Csv(r),
            Err(_) => RawBody::Error(RecordError::Utf8),
        };
        Ok(Some(RawRecord { line, body }))
    }
}
