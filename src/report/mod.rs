//! The machine-readable record of a run: what `--output json` prints, one
//! document on stdout at the end, on success and on failure. Its parts are
//! the records of `crate::record`.
//!
//! The shape is documented in the README. `schema_version` changes only when
//! a field is removed or changes meaning; new fields may appear. `assemble`
//! builds a push's steps and packs from its plan and how the run went.

mod assemble;

pub use assemble::{pack_record, planned_steps, with_steps_not_reached};

use serde::Serialize;

use crate::error::Failure;
use crate::listing::Listing;
use crate::record::{ErrorRecord, PackRecord, StepRecord, Tools};

pub const SCHEMA_VERSION: u32 = 1;

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub packpush_version: &'static str,
    pub command: &'static str,
    pub ok: bool,
    pub exit_code: i32,
    pub dry_run: bool,
    pub registry: Option<String>,
    pub project: Option<String>,
    pub tools: Tools,
    pub steps: Vec<StepRecord>,
    pub packs: Vec<PackRecord>,
    /// `list`: what Palette will find; `push`: the pushed packs'
    /// repositories, read again after the push. `null` otherwise.
    pub listing: Option<Listing>,
    pub warnings: Vec<String>,
    pub error: Option<ErrorRecord>,
}

impl Report {
    pub fn new(command: &'static str) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            packpush_version: env!("CARGO_PKG_VERSION"),
            command,
            ok: true,
            exit_code: 0,
            dry_run: false,
            registry: None,
            project: None,
            tools: Tools::default(),
            steps: Vec::new(),
            packs: Vec::new(),
            listing: None,
            warnings: Vec::new(),
            error: None,
        }
    }

    /// Records how the run ended.
    pub fn finish(&mut self, failure: Option<&Failure>) {
        self.ok = failure.is_none();
        self.exit_code = failure.map_or(0, Failure::exit_code);
        self.error = failure.map(ErrorRecord::from);
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"schema_version\":1,\"ok\":false,\"error\":{{\"message\":\"cannot serialise the report: {e}\"}}}}"))
    }
}
