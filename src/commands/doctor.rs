//! `packpush doctor`: the tool checks of the push preflight, on their own.

use crate::cli::DoctorArgs;
use crate::error::{Failure, preflight_result};
use crate::record::Tools;
use crate::report::Report;
use crate::tools::{self, oras::Mode};
use crate::ui::Ui;

pub fn cmd_doctor(args: DoctorArgs, ui: &Ui) -> (Report, Result<(), Failure>) {
    let mut report = Report::new("doctor");
    ui.line(&crate::build_info::summary());
    let mut problems = Vec::new();
    let found = tools::discover(&args.tools, true, None, &mut problems);
    if let Some(oras) = &found.oras {
        let mode = match oras.mode {
            Mode::Strict => "the version Palette's documentation requires",
            Mode::Newer => "newer than 1.0.0; pushes add --image-spec v1.0 (--allow-newer-oras)",
        };
        ui.line(&format!(
            "ok   oras {} at {}: {mode}",
            oras.version, oras.program.path
        ));
    }
    if let Some(tar) = &found.tar {
        ui.line(&format!("ok   {} at {}", tar.version, tar.program.path));
    }
    report.tools = Tools::from(&found);
    let result = preflight_result(problems);
    report.finish(result.as_ref().err());
    (report, result)
}
