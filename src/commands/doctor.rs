//! `packpush doctor`: the tool checks of the push preflight, on their own.

use crate::cli::DoctorArgs;
use crate::error::{Failure, preflight_result};
use crate::oras::Mode;
use crate::preflight;
use crate::report::{Report, ToolRecord, Tools};
use crate::ui::Ui;

pub fn run(args: DoctorArgs, ui: &Ui) -> (Report, Result<(), Failure>) {
    let mut report = Report::new("doctor");
    ui.line(&crate::build_info::summary());
    let mut problems = Vec::new();
    let (oras, tar) = preflight::check_tools(&args.tools, true, &mut problems);
    if let Some(oras) = &oras {
        let mode = match oras.mode {
            Mode::Strict => "the version Palette's documentation requires",
            Mode::Newer => "newer than 1.0.0; pushes add --image-spec v1.0 (--allow-newer-oras)",
        };
        ui.line(&format!(
            "ok   oras {} at {}: {mode}",
            oras.version, oras.program.path
        ));
    }
    if let Some(tar) = &tar {
        ui.line(&format!("ok   {} at {}", tar.version, tar.program.path));
    }
    report.tools = Tools {
        oras: oras.as_ref().map(|o| ToolRecord {
            path: o.program.path.to_string(),
            version: o.version.to_string(),
        }),
        oras_mode: oras.as_ref().map(|o| {
            if o.mode == Mode::Strict {
                "strict".into()
            } else {
                "newer".into()
            }
        }),
        tar: tar.as_ref().map(|t| ToolRecord {
            path: t.program.path.to_string(),
            version: t.version.clone(),
        }),
    };
    let result = preflight_result(problems);
    report.finish(result.as_ref().err());
    (report, result)
}
