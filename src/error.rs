//! The library's error type: one small enum, each variant naming what went wrong.

use std::path::PathBuf;

/// Everything the library can fail with. Per-record problems (bad JSON, missing text) are
/// [`RecordError`](crate::io::RecordError)s instead: they become error records in the output and
/// never abort a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The indicator catalogue is malformed (bad TOML, unknown field, bad regex, duplicate id).
    #[error("indicator catalogue: {0}")]
    Catalogue(String),
    /// A model file is unreadable, of another format version, tampered with, or does not match
    /// the code's feature layout.
    #[error("model {path}: {reason}")]
    Model { path: String, reason: String },
    /// Training could not proceed (too few rows, one class only, bad parameters).
    #[error("training: {0}")]
    Train(String),
    /// The tokenizer could not be trained or loaded.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn model(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Model {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
