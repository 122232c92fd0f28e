//! Criterion benches, one per pipeline stage and one end to end, on real ads: the EMSCAD subset's
//! job ads (`../shared/datasets/`, text fields joined as `scan --text-fields` joins them) and the
//! project's sample ads. Data is built before any timing; throughput is in bytes of ad text
//! (also for the edges, `read+parse` and `write`, so that stage figures can be compared).
//!
//! Stages, in pipeline order: `read+parse` (JSON Lines records → ads), `normalize`, `entities`,
//! `indicators`, `tokens/compiled` (and the `tokenizers` reference), `features` (token ids →
//! TF-IDF vector), `write` (verdicts → JSON Lines). The model's dot product and the verdict are
//! timed only inside `end_to_end`.
//!
//! Run: `cargo bench --bench pipeline` (add `-- --quick` for a short run).

use std::hint::black_box;

use adscreen::entities::EntityExtractor;
use adscreen::features::{TextVectorizer, VectorScratch};
use adscreen::indicators::{Catalogue, IndicatorEngine};
use adscreen::io::{InputFormat, OutputFormat, RecordReader, RecordSpec, VerdictWriter};
use adscreen::model::ModelBody;
use adscreen::normalize::{normalize_into, Normalized};
use adscreen::screener::{Scratch, BATCH_ADS};
use adscreen::tokens::{reference, reference_ids, WordPieceMatcher};
use adscreen::{Ad, Screener};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn ads() -> Vec<String> {
    let fields = [
        "title",
        "company_profile",
        "description",
        "requirements",
        "benefits",
    ];
    let mut out = Vec::new();
    let emscad = std::fs::read_to_string("../shared/datasets/emscad-subset/dev.jsonl")
        .expect("the shared datasets sit beside the repository");
    for line in emscad.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("dataset line");
        let parts: Vec<&str> = fields
            .iter()
            .filter_map(|f| v[*f].as_str())
            .filter(|s| !s.is_empty())
            .collect();
        out.push(parts.join("\n"));
    }
    let sample = std::fs::read_to_string("datasets/sample/ads.jsonl").expect("sample ads");
    for line in sample.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("sample line");
        out.push(v["text"].as_str().unwrap_or_default().to_string());
    }
    out
}

fn bytes(ads: &[String]) -> u64 {
    ads.iter().map(|a| a.len() as u64).sum()
}

fn stages(c: &mut Criterion) {
    let ads = ads();
    let total = bytes(&ads);
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Bytes(total));
    g.sample_size(10);

    let mut norm = Normalized::default();
    g.bench_function("normalize", |b| {
        b.iter(|| {
            for a in &ads {
                normalize_into(black_box(a), &mut norm);
            }
        })
    });

    let entities = EntityExtractor::new();
    let engine = IndicatorEngine::new(Catalogue::builtin().unwrap()).unwrap();
    let normalized: Vec<Normalized> = ads
        .iter()
        .map(|a| {
            let mut n = Normalized::default();
            normalize_into(a, &mut n);
            n
        })
        .collect();
    g.bench_function("entities", |b| {
        b.iter(|| {
            for (a, n) in ads.iter().zip(&normalized) {
                black_box(entities.extract(a, n));
            }
        })
    });
    let found: Vec<_> = ads
        .iter()
        .zip(&normalized)
        .map(|(a, n)| entities.extract(a, n))
        .collect();
    g.bench_function("indicators", |b| {
        b.iter(|| {
            for ((a, n), e) in ads.iter().zip(&normalized).zip(&found) {
                black_box(engine.find(a, n, e));
            }
        })
    });

    let model = ModelBody::builtin().unwrap();
    let fast = WordPieceMatcher::from_tokenizer_json(&model.tokenizer_json()).unwrap();
    let mut ids = Vec::new();
    g.bench_function("tokens/compiled", |b| {
        b.iter(|| {
            for n in &normalized {
                ids.clear();
                fast.encode_into(n.text(), &mut ids);
            }
        })
    });

    let token_ids: Vec<Vec<u32>> = normalized
        .iter()
        .map(|n| {
            let mut ids = Vec::new();
            fast.encode_into(n.text(), &mut ids);
            ids
        })
        .collect();
    let vectorizer = TextVectorizer::new(&model.text);
    let mut counts = VectorScratch::default();
    let mut vector = Vec::new();
    g.bench_function("features", |b| {
        b.iter(|| {
            for ids in &token_ids {
                vector.clear();
                vectorizer.vectorize(ids, &mut counts, &mut vector);
                black_box(vector.len());
            }
        })
    });

    // The edges: JSON Lines records read and parsed into ads, and verdicts written out.
    let mut jsonl = Vec::new();
    for (i, a) in ads.iter().enumerate() {
        serde_json::to_writer(&mut jsonl, &serde_json::json!({"id": i, "text": a})).unwrap();
        jsonl.push(b'\n');
    }
    let spec = RecordSpec::default();
    g.bench_function("read+parse", |b| {
        b.iter(|| {
            let mut reader =
                RecordReader::new(jsonl.as_slice(), InputFormat::Jsonl, 1 << 26).unwrap();
            let mut n = 0;
            while let Some(r) = reader.next_record().unwrap() {
                let (_, parsed) = spec.parse(&r.body, None, r.line);
                n += parsed.map_or(0, |p| p.ad.text.len());
            }
            black_box(n)
        })
    });
    let screener = Screener::builtin().unwrap();
    let verdicts = screener.screen_batch(
        &ads.iter()
            .enumerate()
            .map(|(i, t)| Ad::new(i.to_string(), t.clone()))
            .collect::<Vec<_>>(),
    );
    let writer = VerdictWriter {
        format: OutputFormat::Jsonl,
    };
    let mut out = Vec::new();
    g.bench_function("write", |b| {
        b.iter(|| {
            out.clear();
            for (line, v) in (1..).zip(&verdicts) {
                writer.verdict(v, line, &mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();

    // The reference is ~50x slower: time it on a tenth of the ads, reported per byte too.
    let tenth: Vec<&Normalized> = normalized.iter().step_by(10).collect();
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Bytes(
        tenth.iter().map(|n| n.text().len() as u64).sum(),
    ));
    g.sample_size(10);
    let slow = reference(&model.tokenizer_json()).unwrap();
    g.bench_function("tokens/reference-tokenizers", |b| {
        b.iter(|| {
            for n in &tenth {
                black_box(reference_ids(&slow, n.text()).unwrap());
            }
        })
    });
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let texts = ads();
    let total = bytes(&texts);
    let ads: Vec<Ad> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Ad::new(i.to_string(), t.clone()))
        .collect();
    let screener = Screener::builtin().unwrap();
    let mut g = c.benchmark_group("end_to_end");
    g.throughput(Throughput::Bytes(total));
    g.sample_size(10);
    let refs: Vec<&Ad> = ads.iter().collect();
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    g.bench_function("screen+serialise/1-thread", |b| {
        b.iter(|| {
            out.clear();
            // As `adscreen scan` screens: batches of BATCH_ADS, stage by stage.
            for batch in refs.chunks(BATCH_ADS) {
                for v in screener.screen_many(batch, &mut scratch) {
                    serde_json::to_writer(&mut out, &v).unwrap();
                    out.push(b'\n');
                }
            }
            black_box(out.len())
        })
    });
    g.bench_function("screen_batch/rayon", |b| {
        b.iter(|| black_box(screener.screen_batch(&ads).len()))
    });
    g.finish();
}

fn startup(c: &mut Criterion) {
    let mut g = c.benchmark_group("startup");
    g.sample_size(10);
    g.bench_function("load default model + first verdict", |b| {
        b.iter(|| {
            let s = Screener::builtin().unwrap();
            black_box(s.screen(&Ad::new("1", "hello")).score)
        })
    });
    g.finish();
}

criterion_group!(benches, stages, end_to_end, startup);
criterion_main!(benches);
