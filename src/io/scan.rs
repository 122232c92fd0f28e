//! The scan driver: inputs → records → verdicts in input order → output, streaming.
//!
//! A reader thread reads records in chunks (bounded: at most two chunks wait), the rayon pool
//! parses and screens each chunk in parallel with per-thread buffers, and the calling thread
//! writes the chunk's output in input order. Memory is bounded by a few chunks, whatever the
//! input size.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, TryRecvError};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::{InputFormat, RawRecord, RecordReader, RecordSpec, VerdictWriter};
use crate::ad::Ad;
use crate::screener::{Scratch, Screener, BATCH_ADS};

/// Records per chunk handed to the pool.
const CHUNK_RECORDS: usize = 2048;
/// Raw bytes per chunk, so a chunk of huge records stays small.
const CHUNK_BYTES: usize = 8 << 20;
/// Chunks being screened at once (memory stays bounded by a few chunks).
const IN_FLIGHT: u64 = 3;

/// The output of one batch of records: their output records one after another, and each
/// record's outcome and raw length. One buffer a batch, not one a record: a record's buffer
/// grew through a chain of reallocations to hold its 1-2 KB verdict.
struct Screened {
    bytes: Vec<u8>,
    records: Vec<(Outcome, u64)>,
}

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Paths; `-` is standard input.
    pub inputs: Vec<PathBuf>,
    /// Forces the input format; by default it follows each input's extension.
    pub input_format: Option<InputFormat>,
    pub spec: RecordSpec,
    pub max_record_bytes: usize,
    pub writer: VerdictWriter,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
}

/// Counts of a finished scan. `read == screened + errors` always holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub read: u64,
    pub screened: u64,
    pub flagged: u64,
    pub errors: u64,
    pub truncated: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn ads_per_second(&self) -> f64 {
        self.read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    pub fn mb_per_second(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why a scan stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{path}")]
    Input {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("writing output")]
    Output(#[source] io::Error),
    #[error("starting worker threads: {0}")]
    Threads(String),
}

/// Bytes read so far, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes: AtomicU64,
}

struct Chunk {
    input: usize,
    header: Option<csv::StringRecord>,
    /// (record, its 1-based position in its input)
    records: Vec<(RawRecord, u64)>,
}

#[derive(Clone, Copy)]
enum Outcome {
    Screened { flagged: bool, truncated: bool },
    Failed,
}

fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    if path == Path::new("-") {
        Ok(Box::new(BufReader::with_capacity(1 << 16, io::stdin())))
    } else {
        let f = std::fs::File::open(path)?;
        Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
    }
}

/// Counts bytes as they are read.
struct Counting<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.progress.bytes.fetch_add(amt as u64, Ordering::Relaxed);
        self.inner.consume(amt)
    }
}

/// Scans every input and writes one output record per input record to `out`, in order.
/// Per-record problems become error records; only unreadable input or unwritable output stop
/// the scan.
pub fn scan(
    screener: &Screener,
    opts: &ScanOptions,
    out: &mut dyn Write,
    progress: &Progress,
) -> Result<Summary, ScanError> {
    let start = Instant::now();
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = opts.threads {
        pool = pool.num_threads(n.max(1));
    }
    let pool = pool
        .build()
        .map_err(|e| ScanError::Threads(e.to_string()))?;
    let mut summary = Summary::default();
    let names: Vec<String> = opts
        .inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    out.write_all(&opts.writer.header())
        .map_err(ScanError::Output)?;

    std::thread::scope(|scope| -> Result<(), ScanError> {
        let (tx, rx) = sync_channel::<Result<Chunk, ScanError>>(2);
        scope.spawn(move || {
            for (input, path) in opts.inputs.iter().enumerate() {
                if let Err(e) = read_input(input, path, opts, progress, &tx) {
                    let _ = tx.send(Err(ScanError::Input {
                        path: path.display().to_string(),
                        source: e,
                    }));
                    return;
                }
            }
        });
        // Each chunk goes to the pool as soon as it is read, up to `IN_FLIGHT` at once, and
        // this thread writes the results in input order as they come back: the workers go on
        // with the next chunk while the last batches of one finish and while it is written.
        let (done_tx, done_rx) = channel::<(u64, std::thread::Result<Vec<Screened>>)>();
        pool.in_place_scope(|jobs| -> Result<(), ScanError> {
            let mut sent = 0u64;
            let mut written = 0u64;
            let mut reading = true;
            // An unreadable input stops the reading, not the writing: what was read before it
            // is still screened and written, then the error is returned.
            let mut failed = None;
            let mut finished: BTreeMap<u64, Vec<Screened>> = BTreeMap::new();
            let mut buf = Vec::new();
            loop {
                while reading && sent - written < IN_FLIGHT {
                    // Wait for input only when nothing is in flight, so that on a slow stream
                    // each chunk is written as soon as it is screened.
                    let next = if sent == written {
                        rx.recv().ok()
                    } else {
                        match rx.try_recv() {
                            Ok(chunk) => Some(chunk),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Disconnected) => None,
                        }
                    };
                    let chunk = match next {
                        Some(Ok(chunk)) => chunk,
                        Some(Err(e)) => {
                            failed = Some(e);
                            reading = false;
                            break;
                        }
                        None => {
                            reading = false;
                            break;
                        }
                    };
                    let done_tx = done_tx.clone();
                    let input = names[chunk.input].as_str();
                    let seq = sent;
                    jobs.spawn(move |_| {
                        // A panic (a bug: no input should cause one) is handed to the writer,
                        // which raises it again; it must not leave the writer waiting.
                        let outputs = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            chunk
                                .records
                                .par_chunks(BATCH_ADS)
                                .map_init(Scratch::default, |scratch, batch| {
                                    screen_records(
                                        screener,
                                        opts,
                                        input,
                                        chunk.header.as_ref(),
                                        batch,
                                        scratch,
                                    )
                                })
                                .collect()
                        }));
                        // Cannot fail: the receiver outlives the scope.
                        let _ = done_tx.send((seq, outputs));
                    });
                    sent += 1;
                }
                if written == sent {
                    return failed.map_or(Ok(()), Err);
                }
                // Jobs are in flight and each sends once, so this returns.
                let Ok((seq, outputs)) = done_rx.recv() else {
                    return failed.map_or(Ok(()), Err);
                };
                let outputs = outputs.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                finished.insert(seq, outputs);
                while let Some(outputs) = finished.remove(&written) {
                    buf.clear();
                    for batch in &outputs {
                        buf.extend_from_slice(&batch.bytes);
                    }
                    for &(outcome, raw_len) in outputs.iter().flat_map(|b| &b.records) {
                        summary.read += 1;
                        summary.bytes += raw_len;
                        match outcome {
                            Outcome::Screened { flagged, truncated } => {
                                summary.screened += 1;
                                summary.flagged += u64::from(flagged);
                                summary.truncated += u64::from(truncated);
                            }
                            Outcome::Failed => summary.errors += 1,
                        }
                    }
                    out.write_all(&buf).map_err(ScanError::Output)?;
                    written += 1;
                }
            }
        })
    })?;
    out.flush().map_err(ScanError::Output)?;
    summary.elapsed = start.elapsed();
    Ok(summary)
}

fn read_input(
    input: usize,
    path: &Path,
    opts: &ScanOptions,
    progress: &Progress,
    tx: &std::sync::mpsc::SyncSender<Result<Chunk, ScanError>>,
) -> io::Result<()> {
    let format = opts
        .input_format
        .unwrap_or_else(|| InputFormat::from_path(path));
    let reader = Counting {
        inner: open(path)?,
        progress,
    };
    let mut records = RecordReader::new(reader, format, opts.max_record_bytes)?;
    let header = records.header().cloned();
    let mut position = 0u64;
    loop {
        let mut chunk = Chunk {
            input,
            header: header.clone(),
            records: Vec::with_capacity(CHUNK_RECORDS),
        };
        let mut bytes = 0;
        while chunk.records.len() < CHUNK_RECORDS && bytes < CHUNK_BYTES {
            match records.next_record()? {
                Some(r) => {
                    position += 1;
                    bytes += raw_len(&r);
                    chunk.records.push((r, position));
                }
                None => break,
            }
        }
        let done = chunk.records.len() < CHUNK_RECORDS && bytes < CHUNK_BYTES;
        if !chunk.records.is_empty() && tx.send(Ok(chunk)).is_err() {
            return Ok(()); // the writer stopped; it reports why
        }
        if done {
            return Ok(());
        }
    }
}

fn raw_len(r: &RawRecord) -> usize {
    match &r.body {
        super::RawBody::Json(b) => b.len() + 1,
        super::RawBody::Csv(row) => row.as_slice().len() + row.len(),
        super::RawBody::Error(_) => 0,
    }
}

/// Parses and screens one batch of records: one output record (verdict or error) each, in
/// order.
fn screen_records(
    screener: &Screener,
    opts: &ScanOptions,
    input: &str,
    header: Option<&csv::StringRecord>,
    batch: &[(RawRecord, u64)],
    scratch: &mut Scratch,
) -> Screened {
    let parsed: Vec<_> = batch
        .iter()
        .map(|(rec, position)| opts.spec.parse(&rec.body, header, *position))
        .collect();
    let ads: Vec<&Ad> = parsed
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().map(|p| &p.ad))
        .collect();
    let mut verdicts = screener.screen_many(&ads, scratch).into_iter();
    let mut out = Vec::new();
    let records = batch
        .iter()
        .zip(&parsed)
        .map(|((rec, _), (id, p))| {
            let verdict = if p.is_ok() { verdicts.next() } else { None };
            let outcome = match (p, verdict) {
                (Ok(_), Some(v)) => {
                    opts.writer.verdict(&v, rec.line, &mut out);
                    Outcome::Screened {
                        flagged: v.flagged,
                        truncated: v.truncated,
                    }
                }
                (Err(e), _) => {
                    opts.writer
                        .error(input, rec.line, id.as_deref(), &e.to_string(), &mut out);
                    Outcome::Failed
                }
                // `screen_many` gives one verdict per ad; were one missing, the record still
                // gets its output record rather than vanishing.
                (Ok(_), None) => {
                    opts.writer.error(
                        input,
                        rec.line,
                        id.as_deref(),
                        "internal error: no verdict for this record",
                        &mut out,
                    );
                    Outcome::Failed
                }
            };
            (outcome, raw_len(rec) as u64)
        })
        .collect();
    Screened {
        bytes: out,
        records,
    }
}
