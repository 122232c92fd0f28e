//! Stage 6: the stages wired together. A [`Screener`] is built once from a model and an
//! indicator catalogue, is `Send + Sync`, and screens ads one at a time or in parallel batches.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::ad::{Ad, Band, Evidence, IndicatorFound, ModelRef, Term, Verdict, WeightSource};
use crate::amp::{Amp, Column};
use crate::entities::{Entity, EntityExtractor};
use crate::error::{Error, Result};
use crate::features::{MetaFeatures, TextVectorizer, VectorScratch};
use crate::indicators::{Catalogue, Hit, IndicatorEngine};
use crate::model::ModelBody;
use crate::normalize::{normalize_into_with, Normalized, Work};
use crate::tokens::WordPieceMatcher;

/// Ads longer than this are screened on their first `DEFAULT_MAX_AD_BYTES` bytes and marked
/// `truncated`: 1 MiB is ~400 times a typical ad and keeps a hostile 50 MB ad from stalling a
/// worker.
pub const DEFAULT_MAX_AD_BYTES: usize = 1 << 20;
/// Ads per task of [`Screener::screen_batch`] and of `adscreen scan`: enough for each stage's
/// tables to be reused while warm, few enough that two threads share a 2,048-ad chunk evenly.
pub const BATCH_ADS: usize = 32;
/// Most text screened stage by stage at once by [`Screener::screen_many`] (a longer ad goes
/// alone): the batch's normalised views take ~18 bytes per character, so 32 long ads together
/// would hold hundreds of MB where 32 typical ones (~2.5 KB) hold under 2 MB.
pub const BATCH_BYTES: usize = 256 * 1024;
/// Text features listed per verdict as `terms`.
const TERMS_PER_VERDICT: usize = 5;

/// The model-independent analysis of an ad: normalisation, entities and indicators. Shared by
/// scoring and training.
#[derive(Debug, Clone)]
pub struct Analyzer {
    entities: EntityExtractor,
    engine: IndicatorEngine,
}

/// Per-thread buffers, reused from batch to batch so steady-state screening barely allocates.
#[derive(Debug, Default)]
pub struct Scratch {
    slots: Vec<Slot>,
    work: Work,
    cols: VectorScratch,
    vector: Vec<(u32, f32)>,
}

/// What the stages produce for one ad of a batch.
#[derive(Debug, Default)]
struct Slot {
    norm: Normalized,
    entities: Vec<Entity>,
    hits: Vec<Hit>,
    tokens: Vec<u32>,
}

/// What [`Analyzer::analyze`] finds in one ad.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub entities: Vec<Entity>,
    pub hits: Vec<Hit>,
}

impl Analyzer {
    pub fn new(catalogue: Catalogue) -> Result<Self> {
        Ok(Analyzer {
            entities: EntityExtractor::new(),
            engine: IndicatorEngine::new(catalogue)?,
        })
    }

    pub fn catalogue(&self) -> &Catalogue {
        self.engine.catalogue()
    }

    /// Normalises `text` into `norm` and finds its entities and indicators.
    pub fn analyze(&self, text: &str, norm: &mut Normalized) -> Analysis {
        let mut slot = Slot {
            norm: std::mem::take(norm),
            ..Slot::default()
        };
        let mut work = slot.norm.take_work();
        self.analyze_many(&[text], std::slice::from_mut(&mut slot), &mut work);
        slot.norm.restore_work(work);
        *norm = slot.norm;
        Analysis {
            entities: slot.entities,
            hits: slot.hits,
        }
    }

    /// The analysis of a batch, one stage at a time over the whole batch (normalise all, then
    /// which patterns match, then entities, then indicators): each stage's automata then stay in
    /// the CPU cache from one ad to the next instead of being evicted by the other stages' (the
    /// indicator sets of session 3 ran 2.5 times slower when every ad went through all stages in
    /// turn).
    /// The entities come after that step, which tells them which searches can find anything. The
    /// one analysis path: [`Analyzer::analyze`] (training) and [`Screener`] (scoring) both come
    /// here.
    fn analyze_many(&self, texts: &[&str], slots: &mut [Slot], work: &mut Work) {
        for (&text, slot) in texts.iter().zip(slots.iter_mut()) {
            normalize_into_with(text, &mut slot.norm, work);
        }
        let matched: Vec<_> = slots
            .iter()
            .map(|slot| self.engine.matching_patterns(&slot.norm))
            .collect();
        for ((&text, slot), matched) in texts.iter().zip(slots.iter_mut()).zip(&matched) {
            slot.entities = self
                .entities
                .extract_gated(text, &slot.norm, matched.entities);
        }
        for ((&text, slot), matched) in texts.iter().zip(slots.iter_mut()).zip(&matched) {
            slot.hits = self
                .engine
                .find_with(text, &slot.norm, &slot.entities, matched);
        }
    }
}

/// Screens ads with one model and one catalogue.
#[derive(Debug)]
pub struct Screener {
    analyzer: Analyzer,
    tokens: WordPieceMatcher,
    text: TextVectorizer,
    ngrams: Vec<[u32; 2]>,
    text_weights: Vec<f32>,
    /// Per catalogue indicator: weight and where it came from.
    indicator_weights: Vec<(f64, WeightSource)>,
    columns: Vec<Option<Column>>,
    minor_cue: Option<usize>,
    meta: MetaFeatures,
    meta_weights: Vec<f32>,
    intercept: f64,
    threshold: f64,
    high_threshold: f64,
    model: ModelRef,
    max_ad_bytes: usize,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Screener {
    /// The embedded default model with the built-in catalogue.
    pub fn builtin() -> Result<Self> {
        Self::load(ModelBody::builtin, Catalogue::builtin()?)
    }

    /// Builds a screener. Indicators the model has a weight for use it; indicators it does not
    /// know (a replaced catalogue) use the catalogue's prior. A *learned* weight for an indicator
    /// missing from the catalogue is an error: dropping it would change scores silently.
    pub fn new(model: ModelBody, catalogue: Catalogue) -> Result<Self> {
        Self::load(|| Ok(model), catalogue)
    }

    /// [`Screener::new`] with the model read by `model`, while a second thread compiles the
    /// catalogue: the two are most of start-up (72–97 ms, about half of it the catalogue's
    /// regexes), and a scan of a small file is mostly start-up. A model error is reported before
    /// a catalogue error.
    pub fn load(model: impl FnOnce() -> Result<ModelBody>, catalogue: Catalogue) -> Result<Self> {
        std::thread::scope(|s| {
            let for_analyzer = catalogue.clone();
            // Where no thread can be started, the catalogue compiles here, after the model.
            let analyzer = std::thread::Builder::new()
                .name("adscreen-catalogue".into())
                .spawn_scoped(s, move || Analyzer::new(for_analyzer))
                .map_err(|_| catalogue.clone());
            let model = model().and_then(|m| {
                let tokens =
                    WordPieceMatcher::from_tokenizer_json(&m.tokenizer_json()).map_err(|e| {
                        Error::model(format!("{} {}", m.name, m.version), e.to_string())
                    })?;
                Ok((m, tokens))
            });
            let analyzer = match analyzer {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(catalogue) => Analyzer::new(catalogue),
            };
            let (model, tokens) = model?;
            Self::assemble(model, tokens, catalogue, analyzer)
        })
    }

    /// The model's own checks come before the catalogue's compile error, as when the catalogue
    /// compiled first.
    fn assemble(
        model: ModelBody,
        tokens: WordPieceMatcher,
        catalogue: Catalogue,
        analyzer: Result<Analyzer>,
    ) -> Result<Self> {
        let origin = format!("{} {}", model.name, model.version);
        for w in &model.indicators {
            if w.source == WeightSource::Learned && catalogue.index_of(&w.id).is_none() {
                return Err(Error::model(
                    origin,
                    format!("learned indicator {:?} is not in the catalogue", w.id),
                ));
            }
        }
        let indicator_weights = catalogue
            .indicators()
            .iter()
            .map(|d| match model.indicators.iter().find(|w| w.id == d.id) {
                Some(w) => (w.weight, w.source),
                None => (d.prior_weight, WeightSource::Prior),
            })
            .collect();
        let columns = catalogue
            .indicators()
            .iter()
            .map(|d| Column::parse(&d.amp).flatten())
            .collect();
        if let Some(&[a, b]) = model.text.ngrams.iter().find(|&&[a, b]| {
            a as usize >= tokens.vocab_size()
                || (b != u32::MAX && b as usize >= tokens.vocab_size())
        }) {
            return Err(Error::model(
                origin,
                format!("text feature [{a}, {b}] refers to a token outside the vocabulary"),
            ));
        }
        let analyzer = analyzer?;
        Ok(Screener {
            minor_cue: catalogue.index_of("minor_cue"),
            analyzer,
            text: TextVectorizer::new(&model.text),
            ngrams: model.text.ngrams.clone(),
            text_weights: model.text_weights,
            tokens,
            indicator_weights,
            columns,
            meta: model.meta,
            meta_weights: model.meta_weights,
            intercept: model.intercept,
            threshold: model.threshold,
            high_threshold: model.high_threshold.max(model.threshold),
            model: ModelRef {
                name: model.name,
                version: model.version,
            },
            max_ad_bytes: DEFAULT_MAX_AD_BYTES,
        })
    }

    /// Overrides the model's decision threshold (the `high` band stays at or above it).
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold.clamp(0.0, 1.0);
        self.high_threshold = self.high_threshold.max(self.threshold);
        self
    }

    /// Screens at most `bytes` bytes of each ad.
    pub fn with_max_ad_bytes(mut self, bytes: usize) -> Self {
        self.max_ad_bytes = bytes.max(1);
        self
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn model(&self) -> &ModelRef {
        &self.model
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Screens one ad.
    pub fn screen(&self, ad: &Ad) -> Verdict {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => self.screen_with(ad, &mut s),
            // Re-entered on this thread (a caller screening from inside a screen): fresh buffers.
            Err(_) => self.screen_with(ad, &mut Scratch::default()),
        })
    }

    /// Screens many ads in parallel (rayon), [`BATCH_ADS`] at a time per task; verdicts come
    /// back in input order.
    pub fn screen_batch(&self, ads: &[Ad]) -> Vec<Verdict> {
        let per_batch: Vec<Vec<Verdict>> = ads
            .par_chunks(BATCH_ADS)
            .map_init(Scratch::default, |s, batch| {
                let refs: Vec<&Ad> = batch.iter().collect();
                self.screen_many(&refs, s)
            })
            .collect();
        per_batch.into_iter().flatten().collect()
    }

    /// Screens one ad with caller-owned buffers: a batch of one.
    pub fn screen_with(&self, ad: &Ad, s: &mut Scratch) -> Verdict {
        let (text, truncated) = bounded(&ad.text, self.max_ad_bytes);
        if s.slots.is_empty() {
            s.slots.push(Slot::default());
        }
        let slot = &mut s.slots[..1];
        self.prepare(&[text], slot, &mut s.work);
        self.verdict(
            ad,
            text,
            truncated,
            &mut slot[0],
            &mut s.cols,
            &mut s.vector,
        )
    }

    /// Screens a batch of ads with caller-owned buffers, stage by stage (see
    /// [`Analyzer`]'s batches), at most [`BATCH_BYTES`] of text at a time. Verdicts come back in
    /// input order, one per ad.
    pub fn screen_many(&self, ads: &[&Ad], s: &mut Scratch) -> Vec<Verdict> {
        let mut out = Vec::with_capacity(ads.len());
        let mut rest = ads;
        while !rest.is_empty() {
            // At least one ad; then as many as fit in BATCH_BYTES.
            let mut n = 1;
            let mut bytes = rest[0].text.len();
            while n < rest.len() && bytes + rest[n].text.len() <= BATCH_BYTES {
                bytes += rest[n].text.len();
                n += 1;
            }
            let (batch, tail) = rest.split_at(n);
            rest = tail;
            let texts: Vec<(&str, bool)> = batch
                .iter()
                .map(|ad| bounded(&ad.text, self.max_ad_bytes))
                .collect();
            if s.slots.len() < batch.len() {
                s.slots.resize_with(batch.len(), Slot::default);
            }
            let slots = &mut s.slots[..batch.len()];
            let plain: Vec<&str> = texts.iter().map(|&(t, _)| t).collect();
            self.prepare(&plain, slots, &mut s.work);
            for ((ad, &(text, truncated)), slot) in batch.iter().zip(&texts).zip(slots) {
                out.push(self.verdict(ad, text, truncated, slot, &mut s.cols, &mut s.vector));
            }
        }
        out
    }

    /// Every stage before the verdict, over a batch: the analysis, then the tokens.
    fn prepare(&self, texts: &[&str], slots: &mut [Slot], work: &mut Work) {
        self.analyzer.analyze_many(texts, slots, work);
        for slot in slots.iter_mut() {
            slot.tokens.clear();
            self.tokens.encode_into(slot.norm.text(), &mut slot.tokens);
        }
    }

    /// The last stage: features, score and the verdict with its evidence.
    fn verdict(
        &self,
        ad: &Ad,
        text: &str,
        truncated: bool,
        slot: &mut Slot,
        cols: &mut VectorScratch,
        vector: &mut Vec<(u32, f32)>,
    ) -> Verdict {
        vector.clear();
        self.text.vectorize(&slot.tokens, cols, vector);

        let mut logit = self.intercept;
        // The largest few positive contributions, largest first (equal ones: the lower column
        // first), kept as they come: an ad has hundreds, and collecting them all to select from
        // cost a growing vector per ad.
        let order = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let mut top = [(0.0, 0); TERMS_PER_VERDICT];
        let mut n_top = 0;
        for &(c, v) in vector.iter() {
            let contribution = f64::from(self.text_weights[c as usize] * v);
            logit += contribution;
            let term = (contribution, c);
            // Positive, and among the largest so far (compared only then).
            if contribution > 0.0
                && (n_top < TERMS_PER_VERDICT || order(&term, &top[n_top - 1]).is_lt())
            {
                n_top = (n_top + 1).min(TERMS_PER_VERDICT);
                let mut k = n_top - 1;
                while k > 0 && order(&term, &top[k - 1]).is_lt() {
                    top[k] = top[k - 1];
                    k -= 1;
                }
                top[k] = term;
            }
        }
        for c in self.meta.columns(&ad.meta) {
            logit += f64::from(self.meta_weights[c as usize]);
        }
        let defs = self.analyzer.catalogue().indicators();
        let hits = &slot.hits;
        let mut indicators = Vec::with_capacity(hits.len());
        for h in hits {
            let (weight, weight_source) = self.indicator_weights[h.indicator];
            logit += weight;
            let d = &defs[h.indicator];
            indicators.push(IndicatorFound {
                id: d.id.clone(),
                category: d.category.clone(),
                weight,
                weight_source,
                evidence: h
                    .evidence
                    .iter()
                    .map(|r| Evidence {
                        start: r.start,
                        end: r.end,
                        text: text.get(r.clone()).unwrap_or_default().to_string(),
                    })
                    .collect(),
            });
        }
        let score = sigmoid(logit);
        let minor = self
            .minor_cue
            .is_some_and(|m| hits.iter().any(|h| h.indicator == m));
        let amp = Amp::from_columns(
            hits.iter()
                .filter_map(|h| self.columns[h.indicator].as_ref()),
            minor,
        );
        let terms = top[..n_top]
            .iter()
            .map(|&(contribution, c)| Term {
                term: self.ngram_text(c),
                contribution,
            })
            .collect();
        Verdict {
            id: ad.id.clone(),
            score,
            flagged: score >= self.threshold,
            band: if score >= self.high_threshold {
                Band::High
            } else if score >= self.threshold {
                Band::Elevated
            } else {
                Band::Low
            },
            indicators,
            entities: std::mem::take(&mut slot.entities),
            amp,
            terms,
            truncated,
            model: self.model.clone(),
        }
    }

    /// A readable form of a text feature: its tokens, with `##` pieces glued on.
    fn ngram_text(&self, col: u32) -> String {
        let [a, b] = self.ngrams[col as usize];
        let mut s = self.tokens.token(a).to_string();
        if b != u32::MAX {
            let t = self.tokens.token(b);
            match t.strip_prefix("##") {
                Some(rest) => s.push_str(rest),
                None => {
                    s.push(' ');
                    s.push_str(t);
                }
            }
        }
        s
    }
}

/// The first `max` bytes of `text`, cut on a character boundary, and whether it was cut.
pub fn bounded(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    if x.is_nan() {
        return 0.5;
    }
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_the_largest_positive_contributions_in_order() {
        let screener = Screener::builtin().unwrap();
        let (mut cols, mut vector) = (VectorScratch::default(), Vec::new());
        let texts = crate::test_data::shared_and_sample_texts();
        // Plus a text whose terms tie: one n-gram a hundred times over.
        let tied = "data entry ".repeat(100);
        for (i, text) in texts.iter().chain([&tied]).enumerate() {
            let verdict = screener.screen(&Ad::new(i.to_string(), text.as_str()));
            // Every positive contribution, sorted: the order the verdict must keep.
            let mut tokens = Vec::new();
            let norm = crate::normalize::normalize(bounded(text, screener.max_ad_bytes).0);
            screener.tokens.encode_into(norm.text(), &mut tokens);
            vector.clear();
            screener.text.vectorize(&tokens, &mut cols, &mut vector);
            let mut all: Vec<(f64, u32)> = vector
                .iter()
                .map(|&(c, v)| (f64::from(screener.text_weights[c as usize] * v), c))
                .filter(|&(contribution, _)| contribution > 0.0)
                .collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let want: Vec<(String, f64)> = all
                .iter()
                .take(TERMS_PER_VERDICT)
                .map(|&(contribution, c)| (screener.ngram_text(c), contribution))
                .collect();
            let got: Vec<(String, f64)> = verdict
                .terms
                .into_iter()
                .map(|t| (t.term, t.contribution))
                .collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn screener_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Screener>();
    }

    #[test]
    fn load_compiles_the_catalogue_beside_the_model_and_reports_the_model_first() {
        let bad_pattern = r#"
[[indicator]]
id = "x"
category = "c"
amp = "none"
description = "d"
source = "s"
prior_class = "C"
prior_weight = 0.25
patterns = ['(unclosed']
"#;
        // Every built-in indicator (the default model has learned weights for some) plus one
        // that does not compile; and that one alone.
        let bad_catalogue = || {
            Catalogue::from_toml(&format!(
                "{}{bad_pattern}",
                crate::indicators::BUILTIN_CATALOGUE
            ))
            .unwrap()
        };
        let only_bad = || Catalogue::from_toml(bad_pattern).unwrap();
        let unreadable = || Err(Error::model("m", "unreadable"));
        let err = Screener::load(unreadable, bad_catalogue()).unwrap_err();
        assert!(matches!(err, Error::Model { .. }), "{err}");
        let err = Screener::load(ModelBody::builtin, bad_catalogue()).unwrap_err();
        assert!(matches!(err, Error::Catalogue(_)), "{err}");
        let err = Screener::load(unreadable, Catalogue::builtin().unwrap()).unwrap_err();
        assert!(matches!(err, Error::Model { .. }), "{err}");
        // The model's own checks too: its learned weights name indicators `only_bad` lacks.
        let err = Screener::load(ModelBody::builtin, only_bad()).unwrap_err();
        assert!(err.to_string().contains("is not in the catalogue"), "{err}");

        let ad = Ad::new(
            "1",
            "Flights paid, passport kept by the agency. WhatsApp only.",
        );
        let loaded = Screener::load(ModelBody::builtin, Catalogue::builtin().unwrap()).unwrap();
        let built = Screener::new(ModelBody::builtin().unwrap(), Catalogue::builtin().unwrap());
        let (a, b) = (loaded.screen(&ad), built.unwrap().screen(&ad));
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert!(!a.indicators.is_empty());
    }

    #[test]
    fn screener_is_unwind_safe() {
        // Embedders may screen under `catch_unwind`; the regex caches' pools must allow it.
        fn check<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
        check::<Screener>();
    }

    #[test]
    fn bounded_cuts_on_char_boundary() {
        assert_eq!(bounded("héllo", 2), ("h", true));
        assert_eq!(bounded("abc", 10), ("abc", false));
    }
}
