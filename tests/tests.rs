//! All integration tests, built into one test binary.

mod corpus;
mod properties;
mod regressions;
mod hostile;
mod scan;
mod util;
mod tokens;
mod training;
