//! # adscreen
//!
//! Screens online recruitment advertisements (job ads and escort ads) for signs of human
//! trafficking and deceptive recruitment, and says *why*: every indicator comes with the exact
//! bytes of the ad that triggered it.
//!
//! Traffickers recruit through ads: wages too good to be true, travel "paid" and later turned
//! into debt, passports "kept safe", fees to get the job, employers reachable only on WhatsApp.
//! Most ads carry one weak flag; risk lies in combinations. So adscreen extracts indicators with
//! evidence and lets a linear model, trained on labelled ads, weigh them with the text. Weights
//! the data cannot support (there is no public labelled escort-ad corpus) fall back to the
//! documented priors of the indicator catalogue, and every verdict says which is which.
//!
//! ## The pipeline
//!
//! 1. [`normalize`] — Unicode, HTML, look-alike letters, leetspeak and spaced-out letters are
//!    undone, with an offset map back to the original bytes.
//! 2. [`indicators`] and [`entities`] — the catalogue's patterns and detectors find indicators;
//!    phones (also obscured ones), e-mails, URLs, handles, money and ages are extracted; [`amp`]
//!    maps the indicators onto the Action–Means–Purpose model.
//! 3. [`tokens`] — WordPiece sub-words; the vocabulary is trained with the `tokenizers` crate,
//!    scoring uses a compiled equivalent proven to give the same ids.
//! 4. [`features`] — sub-word uni- and bi-gram TF-IDF, indicator and metadata columns.
//! 5. [`model`] — a logistic regression (fitted by `linfa-logistic` in [`train`]) stored as a
//!    versioned, checksummed JSON file.
//! 6. [`Screener`] — the stages wired together, `Send + Sync`, batch scoring with `rayon`.
//!
//! ## Example
//!
//! ```
//! use adscreen::{Ad, Screener};
//!
//! let screener = Screener::builtin()?;
//! let ad = Ad::new("42", "URGENT! Work abroad, flights paid. Your passport will be kept \
//!                         safe by the agency. WhatsApp only: +1 415 555 0123");
//! let verdict = screener.screen(&ad);
//! let ids: Vec<&str> = verdict.indicators.iter().map(|i| i.id.as_str()).collect();
//! assert!(ids.contains(&"document_retention"));
//! let evidence = &verdict.indicators.iter().find(|i| i.id == "document_retention").unwrap().evidence[0];
//! assert_eq!(&ad.text[evidence.start..evidence.end], evidence.text);
//! assert!((0.0..=1.0).contains(&verdict.score));
//! # Ok::<(), adscreen::Error>(())
//! ```

pub mod ad;
pub mod amp;
mod bytemask;
pub mod entities;
pub mod error;
pub mod features;
pub mod indicators;
pub mod io;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod screener;
#[cfg(test)]
mod test_data;
pub mod tokens;
pub mod train;
mod trie;

pub use ad::{Ad, Band, Verdict};
pub use error::{Error, Result};
pub use screener::Screener;
