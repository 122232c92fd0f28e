//! All integration tests, built into one test binary.

mod corpus;
mod hostile;
mod properties;
mod regressions;
mod scan;
mod tokens;
mod training;
mod util;
