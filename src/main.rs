//! The `adscreen` command line: `scan`, `train`, `eval`. Glue only: flags → validated options →
//! library calls; errors via `anyhow`.
//!
//! Exit status: 0 when the run completed (per-record errors are reported as error records and
//! counted in the summary); 1 when the run could not proceed (unreadable input, bad model or
//! catalogue, unwritable output); 2 for command-line usage errors. A closed stdout (`| head`)
//! ends the run quietly with status 0.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use adscreen::indicators::Catalogue;
use adscreen::io::scan::{scan, Progress, ScanError, ScanOptions};
use adscreen::io::{
    InputFormat, OutputFormat, RecordReader, RecordSpec, VerdictWriter, DEFAULT_MAX_RECORD_BYTES,
};
use adscreen::metrics::{self, Confusion, ThresholdRule};
use adscreen::model::{file_sha256, text_sha256, DataFile, ModelBody, TrainingInfo};
use adscreen::screener::{Analyzer, DEFAULT_MAX_AD_BYTES};
use adscreen::train::{fit, Example, ModelMeta, TrainParams};
use adscreen::Screener;

#[derive(Parser)]
#[command(
    name = "adscreen",
    version,
    about = "Screen recruitment and escort ads for signs of human trafficking and deceptive recruitment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Screen ads and write one verdict (or error record) per input record, in input order.
    Scan(ScanArgs),
    /// Train a model on labelled ads (JSON Lines or CSV) with k-fold cross-validation.
    Train(TrainArgs),
    /// Evaluate a model on labelled ads.
    Eval(EvalArgs),
}

#[derive(Args)]
struct Common {
    /// Indicator catalogue (TOML) replacing the built-in one.
    #[arg(long, value_name = "FILE")]
    indicators: Option<PathBuf>,
    /// Input format; by default chosen by extension (.csv → CSV, else JSON Lines).
    #[arg(long, value_enum)]
    input_format: Option<InputFormat>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_parser = at_least_one)]
    threads: Option<usize>,
    /// Longest input record (bytes) read into memory; longer ones become error records.
    #[arg(long, default_value_t = DEFAULT_MAX_RECORD_BYTES)]
    max_record_bytes: usize,
}

#[derive(Args)]
struct ScanArgs {
    /// Input files (JSON Lines or CSV); `-` reads standard input.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Write here instead of standard output (through a temporary file, renamed when complete).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: OutputFormat,
    /// Model directory or file (default: the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Fields joined (with newlines) to make the ad text.
    #[arg(long, value_delimiter = ',', default_value = "text")]
    text_fields: Vec<String>,
    /// Field holding the ad id (else the record's position in its input).
    #[arg(long, default_value = "id")]
    id_field: String,
    /// Metadata fields passed to the model (only useful if it was trained with them).
    #[arg(long, value_delimiter = ',')]
    meta_fields: Vec<String>,
    /// Flag at or above this score instead of the model's threshold.
    #[arg(long, value_parser = unit_interval)]
    threshold: Option<f64>,
    /// Screen at most this many bytes of each ad; longer ads are marked `truncated`.
    #[arg(long, default_value_t = DEFAULT_MAX_AD_BYTES)]
    max_ad_bytes: usize,
    /// No summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct DataArgs {
    /// Labelled data files.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Fields joined to make the ad text (eval default: the model's).
    #[arg(long, value_delimiter = ',')]
    text_fields: Vec<String>,
    #[arg(long, default_value = "label")]
    label_field: String,
    #[arg(long, default_value = "id")]
    id_field: String,
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Output model directory.
    #[arg(long)]
    out: PathBuf,
    /// Categorical metadata fields used as features (e.g. has_company_logo,employment_type).
    #[arg(long, value_delimiter = ',')]
    meta_fields: Vec<String>,
    #[arg(long, default_value_t = 5)]
    folds: usize,
    #[arg(long, default_value_t = 788)]
    seed: u64,
    /// Text n-gram columns kept (bounded so the dense training matrix fits in memory).
    #[arg(long, default_value_t = 65536)]
    max_features: usize,
    /// Bound on one dense training matrix in MiB; lowers --max-features on large data.
    #[arg(long, default_value_t = 1024)]
    max_matrix_mib: usize,
    /// WordPiece vocabulary size.
    #[arg(long, default_value_t = 8000)]
    vocab_size: usize,
    /// L2 strengths tried by cross-validation.
    #[arg(long, value_delimiter = ',', default_values_t = vec![0.001, 0.01, 0.1, 1.0])]
    alphas: Vec<f64>,
    /// Choose the threshold reaching this CV precision (default: best F1).
    #[arg(long, conflicts_with = "target_recall", value_parser = unit_interval)]
    target_precision: Option<f64>,
    /// Choose the threshold reaching this CV recall (default: best F1).
    #[arg(long, value_parser = unit_interval)]
    target_recall: Option<f64>,
    /// Share of positives where the model will be used (e.g. 0.048: EMSCAD's 4.8% fraud rate);
    /// shifts the intercept and chooses thresholds for that prevalence.
    #[arg(long)]
    prevalence: Option<f64>,
    /// Indicators firing in fewer training ads keep their prior weight.
    #[arg(long, default_value_t = 10)]
    min_indicator_support: usize,
    #[arg(long)]
    name: Option<String>,
    #[arg(long, default_value = "1")]
    model_version: String,
    #[arg(long, default_value = "")]
    description: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Model directory or file (default: the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Print the metrics as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

/// Parses a number within [0, 1] (a usage error otherwise, exit status 2).
fn unit_interval(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be within [0, 1], got {s}"))
    }
}

/// Parses a count of at least one.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1".into()),
        Err(e) => Err(format!("{e}")),
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => run_scan(a),
        Command::Train(a) => run_train(a),
        Command::Eval(a) => run_eval(a),
    };
    if let Err(e) = result {
        if is_broken_pipe(&e) {
            std::process::exit(0);
        }
        eprintln!("adscreen: error: {e:#}");
        std::process::exit(1);
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || matches!(c.downcast_ref::<ScanError>(), Some(ScanError::Output(io)) if io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build().context("starting worker threads")
}

fn catalogue(path: &Option<PathBuf>) -> Result<Catalogue> {
    Ok(match path {
        Some(p) => Catalogue::from_path(p)?,
        None => Catalogue::builtin()?,
    })
}

fn load_model(path: &Option<PathBuf>) -> adscreen::Result<ModelBody> {
    match path {
        Some(p) => ModelBody::load(p),
        None => ModelBody::builtin(),
    }
}

fn run_scan(a: ScanArgs) -> Result<()> {
    // A bad model is reported before a bad catalogue, as when the model was read first.
    let catalogue = match catalogue(&a.common.indicators) {
        Ok(c) => c,
        Err(e) => {
            load_model(&a.model)?;
            return Err(e);
        }
    };
    let mut screener =
        Screener::load(|| load_model(&a.model), catalogue)?.with_max_ad_bytes(a.max_ad_bytes);
    if let Some(t) = a.threshold {
        screener = screener.with_threshold(t);
    }
    let opts = ScanOptions {
        inputs: a.inputs.clone(),
        input_format: a.common.input_format,
        spec: RecordSpec {
            text_fields: a.text_fields.clone(),
            id_field: a.id_field.clone(),
            label_field: None,
            meta_fields: a.meta_fields.clone(),
        },
        max_record_bytes: a.common.max_record_bytes,
        writer: VerdictWriter { format: a.format },
        threads: a.common.threads,
    };
    let progress = Progress::default();
    let total: u64 = a
        .inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok().map(|m| m.len()))
        .sum();
    let show_bar = io::stderr().is_terminal() && !a.quiet;

    let done = std::sync::atomic::AtomicBool::new(false);
    let summary = std::thread::scope(|s| -> Result<_> {
        if show_bar {
            let (progress, done) = (&progress, &done);
            s.spawn(move || progress_bar(progress, done, total));
        }
        let result = match &a.out {
            Some(path) => write_atomically(path, |w| {
                scan(&screener, &opts, w, &progress).map_err(anyhow::Error::from)
            }),
            None => {
                let stdout = io::stdout();
                let mut w = io::BufWriter::with_capacity(1 << 16, stdout.lock());
                scan(&screener, &opts, &mut w, &progress).map_err(anyhow::Error::from)
            }
        };
        done.store(true, Ordering::Relaxed);
        result
    })?;
    if !a.quiet {
        eprintln!(
            "adscreen: {} read, {} screened, {} flagged, {} errors, {} truncated in {:.2}s ({:.0} ads/s, {:.1} MB/s)",
            summary.read,
            summary.screened,
            summary.flagged,
            summary.errors,
            summary.truncated,
            summary.elapsed.as_secs_f64(),
            summary.ads_per_second(),
            summary.mb_per_second()
        );
    }
    Ok(())
}

fn progress_bar(progress: &Progress, done: &std::sync::atomic::AtomicBool, total: u64) {
    let bar = if total > 0 {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec})",
    ) {
        bar.set_style(style);
    }
    while !done.load(Ordering::Relaxed) {
        bar.set_position(progress.bytes.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

/// Writes through a temporary file in the same directory, renamed over `path` only when `f`
/// succeeds: an interrupted run never leaves a half-written file that looks whole.
fn write_atomically<T>(path: &Path, f: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if path == Path::new("/dev/null") {
        let mut w = io::BufWriter::new(std::fs::File::create(path)?);
        return f(&mut w);
    }
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let mut w = io::BufWriter::with_capacity(1 << 16, tmp);
    let value = f(&mut w)?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    // Temporary files are created private (0600); the output is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode());
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))?;
    }
    tmp.persist(path)
        .with_context(|| format!("renaming output to {}", path.display()))?;
    Ok(value)
}

/// Reads labelled examples; unreadable records are reported on stderr (with line numbers) and
/// counted, never silently dropped.
fn read_examples(
    files: &[PathBuf],
    spec: &RecordSpec,
    format: Option<InputFormat>,
    max_record_bytes: usize,
) -> Result<(Vec<Example>, usize, Vec<DataFile>)> {
    let mut examples = Vec::new();
    let mut skipped = 0;
    let mut data = Vec::new();
    for path in files {
        let f = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
        let fmt = format.unwrap_or_else(|| InputFormat::from_path(path));
        let mut r = RecordReader::new(io::BufReader::new(f), fmt, max_record_bytes)
            .with_context(|| format!("{}", path.display()))?;
        let header = r.header().cloned();
        let mut n = 0u64;
        while let Some(rec) = r
            .next_record()
            .with_context(|| format!("{}", path.display()))?
        {
            n += 1;
            match spec.parse(&rec.body, header.as_ref(), n) {
                (_, Ok(p)) => examples.push(Example {
                    text: p.ad.text,
                    label: p.label.unwrap_or(false),
                    meta: p.ad.meta,
                }),
                (id, Err(e)) => {
                    skipped += 1;
                    if skipped <= 10 {
                        eprintln!(
                            "adscreen: {}:{}{}: skipped: {e}",
                            path.display(),
                            rec.line,
                            id.map(|i| format!(" (id {i})")).unwrap_or_default()
                        );
                    }
                }
            }
        }
        data.push(DataFile {
            path: path.display().to_string(),
            sha256: file_sha256(path)?,
            records: n as usize,
        });
    }
    if skipped > 10 {
        eprintln!("adscreen: … {skipped} records skipped in all");
    }
    Ok((examples, skipped, data))
}

fn today() -> String {
    // Days since the epoch → civil date (Howard Hinnant's algorithm); avoids a date crate.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn run_train(a: TrainArgs) -> Result<()> {
    let text_fields = if a.data.text_fields.is_empty() {
        vec!["text".to_string()]
    } else {
        a.data.text_fields.clone()
    };
    let spec = RecordSpec {
        text_fields: text_fields.clone(),
        id_field: a.data.id_field.clone(),
        label_field: Some(a.data.label_field.clone()),
        meta_fields: a.meta_fields.clone(),
    };
    let (examples, skipped, data) = read_examples(
        &a.data.data,
        &spec,
        a.common.input_format,
        a.common.max_record_bytes,
    )?;
    let catalogue_text = match &a.common.indicators {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?,
        None => adscreen::indicators::BUILTIN_CATALOGUE.to_string(),
    };
    let analyzer = Analyzer::new(Catalogue::from_toml(&catalogue_text)?)?;
    let params = TrainParams {
        folds: a.folds,
        seed: a.seed,
        max_features: a.max_features,
        vocab_size: a.vocab_size,
        alphas: a.alphas.clone(),
        threshold_rule: match (a.target_precision, a.target_recall) {
            (Some(p), _) => ThresholdRule::Precision(p),
            (_, Some(r)) => ThresholdRule::Recall(r),
            _ => ThresholdRule::BestF1,
        },
        min_indicator_support: a.min_indicator_support,
        max_matrix_bytes: a.max_matrix_mib << 20,
        prevalence: a.prevalence,
        ..TrainParams::default()
    };
    let name = a.name.clone().unwrap_or_else(|| {
        a.out
            .file_name()
            .map_or("model".into(), |n| n.to_string_lossy().into_owned())
    });
    let info = TrainingInfo {
        data,
        skipped,
        date: today(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        adscreen_version: env!("CARGO_PKG_VERSION").into(),
        catalogue_sha256: text_sha256(&catalogue_text),
        ..TrainingInfo::default()
    };
    let meta = ModelMeta {
        name,
        version: a.model_version.clone(),
        description: a.description.clone(),
        text_fields,
        meta_fields: a.meta_fields.clone(),
        info,
    };
    let pool = thread_pool(a.common.threads)?;
    let model = pool.install(|| {
        fit(&params, &analyzer, &examples, meta, &|msg| {
            eprintln!("adscreen: {msg}")
        })
    })?;
    model.save(&a.out)?;
    let cv = &model.training.cv;
    println!(
        "{}",
        serde_json::json!({
            "model": a.out.display().to_string(),
            "rows": model.training.rows,
            "positives": model.training.positives,
            "skipped": skipped,
            "alpha": model.training.alpha,
            "cv_roc_auc": cv.roc_auc,
            "cv_pr_auc": cv.pr_auc,
            "cv_precision": cv.precision,
            "cv_recall": cv.recall,
            "cv_f1": cv.f1,
            "cv_brier": cv.brier,
            "prevalence": cv.prevalence,
            "cv_precision_at_prevalence": cv.precision_at_prevalence,
            "cv_f1_at_prevalence": cv.f1_at_prevalence,
            "threshold": model.threshold,
            "high_threshold": model.high_threshold,
        })
    );
    Ok(())
}

fn run_eval(a: EvalArgs) -> Result<()> {
    let model = load_model(&a.model)?;
    let text_fields = if a.data.text_fields.is_empty() {
        model.text_fields.clone()
    } else {
        a.data.text_fields.clone()
    };
    let meta_fields = model.meta.fields.clone();
    let spec = RecordSpec {
        text_fields,
        id_field: a.data.id_field.clone(),
        label_field: Some(a.data.label_field.clone()),
        meta_fields,
    };
    let (examples, skipped, _) = read_examples(
        &a.data.data,
        &spec,
        a.common.input_format,
        a.common.max_record_bytes,
    )?;
    if examples.is_empty() {
        bail!("no readable labelled records");
    }
    let screener = Screener::new(model, catalogue(&a.common.indicators)?)?;
    let pool = thread_pool(a.common.threads)?;
    let ads: Vec<adscreen::Ad> = examples
        .iter()
        .enumerate()
        .map(|(i, e)| adscreen::Ad {
            id: i.to_string(),
            text: e.text.clone(),
            meta: e.meta.clone(),
        })
        .collect();
    let scores: Vec<f64> = pool.install(|| {
        screener
            .screen_batch(&ads)
            .into_iter()
            .map(|v| v.score)
            .collect()
    });
    let labels: Vec<bool> = examples.iter().map(|e| e.label).collect();
    let threshold = screener.threshold();
    let c = Confusion::at(&scores, &labels, threshold);
    let report = serde_json::json!({
        "model": format!("{} {}", screener.model().name, screener.model().version),
        "rows": labels.len(),
        "positives": labels.iter().filter(|&&l| l).count(),
        "skipped": skipped,
        "roc_auc": metrics::roc_auc(&scores, &labels),
        "pr_auc": metrics::average_precision(&scores, &labels),
        "threshold": threshold,
        "precision": c.precision(),
        "recall": c.recall(),
        "f1": c.f1(),
        "confusion": {"tp": c.tp, "fp": c.fp, "tn": c.tn, "fn": c.fn_},
        "brier": metrics::brier(&scores, &labels),
        "reliability": metrics::reliability(&scores, &labels),
    });
    if a.json {
        println!("{report}");
        return Ok(());
    }
    let f = |k: &str| {
        report[k]
            .as_f64()
            .map_or("n/a".into(), |v| format!("{v:.4}"))
    };
    println!(
        "model      {}",
        report["model"].as_str().unwrap_or_default()
    );
    println!(
        "rows       {} ({} positive, {} skipped)",
        report["rows"], report["positives"], skipped
    );
    println!("ROC-AUC    {}", f("roc_auc"));
    println!("PR-AUC     {}", f("pr_auc"));
    println!("threshold  {threshold:.4}");
    println!(
        "precision  {}   recall {}   F1 {}",
        f("precision"),
        f("recall"),
        f("f1")
    );
    println!(
        "confusion  tp {}  fp {}  tn {}  fn {}",
        c.tp, c.fp, c.tn, c.fn_
    );
    println!("Brier      {}", f("brier"));
    println!("reliability (score bin: ads, mean score, positive rate)");
    for b in metrics::reliability(&scores, &labels) {
        if b.count > 0 {
            println!(
                "  [{:.1}, {:.1}): {:>6}  {:.3}  {:.3}",
                b.lo, b.hi, b.count, b.mean_score, b.positive_rate
            );
        }
    }
    Ok(())
}
