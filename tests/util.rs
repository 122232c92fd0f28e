//! Helpers shared by the end-to-end tests: run the real `adscreen` binary, parse its JSON Lines
//! output and its stderr summary line, and check the invariants every run must keep.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a single invocation may take before the test kills it and fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_adscreen")
}

/// A file of the repository (e.g. `datasets/sample/ads.jsonl`).
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn sample_jsonl() -> PathBuf {
    repo_path("datasets/sample/ads.jsonl")
}

pub fn sample_csv() -> PathBuf {
    repo_path("datasets/sample/ads.csv")
}

/// What one invocation produced.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_str(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is not UTF-8")
    }

    /// A short description for assertion messages.
    pub fn describe(&self) -> String {
        let out = String::from_utf8_lossy(&self.stdout);
        let out: String = out.chars().take(2000).collect();
        let err: String = self.stderr.chars().take(4000).collect();
        format!(
            "status: {:?}\n--- stdout (first 2000 chars) ---\n{out}\n--- stderr ---\n{err}",
            self.status
        )
    }
}

/// Runs `adscreen ARGS` with `stdin` as standard input and returns status, stdout and stderr.
pub fn run<I, S>(args: I, stdin: &[u8]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_in(None, args, stdin)
}

/// Like [`run`] with empty stdin, memoised per argument list for the whole test binary: tests
/// that need the same run of a fixed input (the sample ads) share one invocation. Only for
/// inputs that do not change while the tests run.
pub fn run_cached(args: &[&OsStr]) -> Arc<Run> {
    type Cache = Mutex<HashMap<Vec<std::ffi::OsString>, Arc<OnceLock<Arc<Run>>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key: Vec<std::ffi::OsString> = args.iter().map(|a| a.to_os_string()).collect();
    let cell = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(map.entry(key).or_default())
    };
    Arc::clone(cell.get_or_init(|| Arc::new(run(args, b""))))
}

/// `adscreen scan FILE` (default flags) on a sample file, memoised.
pub fn sample_scan(path: &Path) -> Arc<Run> {
    run_cached(&["scan".as_ref(), path.as_os_str()])
}

/// Like [`run`], with the working directory set to `dir`.
pub fn run_in<I, S>(dir: Option<&Path>, args: I, stdin: &[u8]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().expect("spawning adscreen");
    let input = stdin.to_vec();
    let mut child_stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        // The binary may exit without reading all of stdin (usage errors): ignore EPIPE.
        let _ = child_stdin.write_all(&input);
    });
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let status = wait_with_timeout(&mut child, RUN_TIMEOUT);
    let _ = writer.join();
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    Run {
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn drain<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// Waits for `child`, killing it (and failing the test) after `timeout`.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("waiting for adscreen") {
            return s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("adscreen did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Parses JSON Lines output: every line must be one JSON object.
pub fn parse_jsonl(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("output is not UTF-8");
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| {
                let head: String = l.chars().take(300).collect();
                panic!("output line {} is not JSON ({e}): {head}", i + 1)
            });
            assert!(v.is_object(), "output line {} is not an object: {v}", i + 1);
            v
        })
        .collect()
}

/// Is this output record an error record (`{"line":..,"error":..}`)?
pub fn is_error(v: &Value) -> bool {
    v.get("error").is_some()
}

/// The counts of the stderr summary line
/// `adscreen: N read, N screened, N flagged, N errors, N truncated in ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub read: u64,
    pub screened: u64,
    pub flagged: u64,
    pub errors: u64,
    pub truncated: u64,
}

/// Finds and parses the summary line in `stderr`.
pub fn parse_summary(stderr: &str) -> Option<Summary> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("adscreen: ") && l.contains(" read, "))?;
    let rest = line.strip_prefix("adscreen: ")?;
    let rest = rest.split(" in ").next()?;
    let mut s = Summary::default();
    let mut seen = 0;
    for part in rest.split(", ") {
        let (n, what) = part.trim().split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        let slot = match what {
            "read" => &mut s.read,
            "screened" => &mut s.screened,
            "flagged" => &mut s.flagged,
            "errors" => &mut s.errors,
            "truncated" => &mut s.truncated,
            _ => return None,
        };
        *slot = n;
        seen += 1;
    }
    (seen == 5).then_some(s)
}

/// Fails if the run panicked or overflowed its stack.
pub fn assert_no_panic(r: &Run) {
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("overflowed its stack"),
        "adscreen panicked\n{}",
        r.describe()
    );
}

/// Checks everything a completed JSONL scan must satisfy and returns its records and summary:
/// exit status 0, no panic, every output line a JSON object (verdict or error record), and the
/// summary reconciling with the output (read == lines == screened + errors; flagged, errors
/// and truncated match the records).
pub fn check_scan(r: &Run) -> (Vec<Value>, Summary) {
    assert_no_panic(r);
    assert!(r.status.success(), "adscreen failed\n{}", r.describe());
    let recs = parse_jsonl(&r.stdout);
    let s = parse_summary(&r.stderr)
        .unwrap_or_else(|| panic!("no summary line on stderr\n{}", r.describe()));
    let errors = recs.iter().filter(|v| is_error(v)).count() as u64;
    let flagged = recs
        .iter()
        .filter(|v| v.get("flagged") == Some(&Value::Bool(true)))
        .count() as u64;
    let truncated = recs
        .iter()
        .filter(|v| v.get("truncated") == Some(&Value::Bool(true)))
        .count() as u64;
    assert_eq!(
        s.read,
        recs.len() as u64,
        "summary read != output lines\n{s:?}"
    );
    assert_eq!(
        s.read,
        s.screened + s.errors,
        "read != screened + errors: {s:?}"
    );
    assert_eq!(s.errors, errors, "summary errors != error records: {s:?}");
    assert_eq!(
        s.flagged, flagged,
        "summary flagged != flagged verdicts: {s:?}"
    );
    assert_eq!(
        s.truncated, truncated,
        "summary truncated != truncated verdicts: {s:?}"
    );
    for (i, v) in recs.iter().enumerate() {
        if is_error(v) {
            check_error_record(v, i);
        } else {
            check_verdict(v, i);
        }
    }
    (recs, s)
}

/// An error record names its input and a 1-based line and carries a message.
pub fn check_error_record(v: &Value, i: usize) {
    let line = v["line"].as_u64();
    assert!(
        line.is_some_and(|l| l >= 1),
        "error record {} has no 1-based line: {v}",
        i + 1
    );
    assert!(
        v["input"].is_string(),
        "error record {} names no input: {v}",
        i + 1
    );
    assert!(
        v["error"].as_str().is_some_and(|e| !e.is_empty()),
        "error record {} has no message: {v}",
        i + 1
    );
}

/// A verdict has an id, a score in [0, 1], and a band consistent with `flagged`.
pub fn check_verdict(v: &Value, i: usize) {
    assert!(v["id"].is_string(), "verdict {} has no id: {v}", i + 1);
    let score = v["score"]
        .as_f64()
        .unwrap_or_else(|| panic!("verdict {} has no score: {v}", i + 1));
    assert!(
        (0.0..=1.0).contains(&score),
        "verdict {} score {score} outside [0, 1]",
        i + 1
    );
    let flagged = v["flagged"]
        .as_bool()
        .unwrap_or_else(|| panic!("verdict {} has no flagged: {v}", i + 1));
    let band = v["band"].as_str().unwrap_or_default();
    assert!(
        ["low", "elevated", "high"].contains(&band),
        "verdict {} has band {band:?}",
        i + 1
    );
    assert_eq!(
        flagged,
        band != "low",
        "verdict {}: flagged={flagged} but band={band}",
        i + 1
    );
    assert!(
        v["indicators"].is_array(),
        "verdict {} has no indicators: {v}",
        i + 1
    );
}

/// The `id` of each output record (`None` for an error record without one).
pub fn ids(recs: &[Value]) -> Vec<Option<String>> {
    recs.iter()
        .map(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect()
}

/// The `id` and `text` of every record of a JSON Lines file (blank lines skipped).
pub fn read_jsonl_ads(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("reading JSONL input");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("input JSON");
            (
                v["id"].as_str().unwrap_or_default().to_string(),
                v["text"].as_str().expect("input text").to_string(),
            )
        })
        .collect()
}

/// The `id` and `text` of every row of a CSV file with a header.
pub fn read_csv_ads(path: &Path) -> Vec<(String, String)> {
    let mut rdr = csv::Reader::from_path(path).expect("opening CSV input");
    let header = rdr.headers().expect("CSV header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("CSV column");
    let (id, text) = (col("id"), col("text"));
    rdr.records()
        .map(|r| {
            let r = r.expect("CSV row");
            (r[id].to_string(), r[text].to_string())
        })
        .collect()
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("creating a temporary directory")
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("writing test input");
    p
}

/// One JSON Lines record `{"id":..,"text":..}`.
pub fn jsonl_record(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "text": text}).to_string()
}

/// Every text of the shared datasets (`../shared/datasets/`): the EMSCAD subset's job ads (their
/// text fields joined with newlines) first, then the SMS messages.
pub fn shared_texts() -> Vec<String> {
    let mut out = Vec::new();
    for (path, fields) in [
        (
            "../shared/datasets/emscad-subset/dev.jsonl",
            &[
                "title",
                "company_profile",
                "description",
                "requirements",
                "benefits",
            ][..],
        ),
        ("../shared/datasets/sms-spam/train.jsonl", &["text"][..]),
    ] {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!("{path}: {e} (the shared datasets sit beside the repository)")
        });
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("dataset line");
            let parts: Vec<&str> = fields
                .iter()
                .filter_map(|f| v[*f].as_str())
                .filter(|s| !s.is_empty())
                .collect();
            out.push(parts.join("\n"));
        }
    }
    out
}
