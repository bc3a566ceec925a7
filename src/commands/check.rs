//! `packpush check`: the pack checks of the push preflight, on their own,
//! so a pack can be checked before anyone has registry credentials.

use crate::cli::CheckArgs;
use crate::error::{Failure, Problem, preflight_result};
use crate::pack;
use crate::reference;
use crate::report::Report;
use crate::ui::Ui;

pub fn cmd_check(args: CheckArgs, ui: &Ui) -> (Report, Result<(), Failure>) {
    let mut report = Report::new("check");
    let result = check(&args, ui, &mut report);
    report.finish(result.as_ref().err());
    (report, result)
}

fn check(args: &CheckArgs, ui: &Ui, report: &mut Report) -> Result<(), Failure> {
    let given = &args.pack_dir;
    let dir = match pack::locate(given) {
        Ok(dir) => dir,
        Err(problem) => return verdict(given.as_str(), vec![problem]),
    };
    let (json, mut findings) = pack::inspect(&dir);
    if let Some(json) = &json {
        // push refuses a name or version that cannot go into an OCI
        // reference; a pack that passes `check` should not fail there.
        let name = reference::check_component(&json.name, "pack name", "from pack.json \"name\"");
        let tag = reference::check_tag(&json.version, "from pack.json \"version\"");
        findings
            .errors
            .extend(name.err().into_iter().chain(tag.err()));
    }
    if findings.is_ok()
        && let Some(json) = &json
    {
        let layer = json.document["layer"].as_str().unwrap_or_default();
        ui.line(&format!(
            "ok   pack.json: {} {}, layer {layer}",
            json.name, json.version
        ));
        ui.line(&format!(
            "ok   folder {}: values.yaml, logo.png and the files pack.json names are there; \
             tar can archive every file",
            dir.path
        ));
    }
    for warning in &findings.warnings {
        ui.warn(warning);
    }
    report.warnings = findings.warnings.clone();
    verdict(given.as_str(), findings.errors)
}

/// `Ok` without problems; otherwise every problem at once, in the
/// preflight's format and with its exit code.
fn verdict(given: &str, problems: Vec<Problem>) -> Result<(), Failure> {
    let count = problems.len();
    preflight_result(problems).map_err(|mut failure| {
        let noun = if count == 1 { "problem" } else { "problems" };
        failure.message =
            format!("the pack in '{given}' has {count} {noun}; fix them before pushing");
        failure
    })
}
