//! Where each value came from (a flag or an environment variable), so that
//! messages can say "the environment variable NAME" rather than just "the
//! name".

use clap::ArgMatches;
use clap::parser::ValueSource;

/// The parsed command line of the subcommand, asked where a value came from.
#[derive(Debug, Default)]
pub struct Provenance<'a> {
    matches: Option<&'a ArgMatches>,
}

impl<'a> Provenance<'a> {
    /// `matches`: the subcommand's own matches (`None`: every value counts
    /// as given by a flag).
    pub fn new(matches: Option<&'a ArgMatches>) -> Self {
        Provenance { matches }
    }

    /// Whether the value of the argument `id` came from its environment variable.
    pub fn from_env(&self, id: &str) -> bool {
        matches!(
            self.matches.and_then(|m| m.value_source(id)),
            Some(ValueSource::EnvVariable)
        )
    }

    /// "from --name" or "from the environment variable NAME".
    pub fn describe(&self, id: &str, flag: &str, env: &str) -> String {
        if self.from_env(id) {
            format!("from the environment variable {env}")
        } else {
            format!("from {flag}")
        }
    }
}
