//! `packpush doctor`: the tool checks of the push preflight, on their own.

use crate::cli::DoctorArgs;
use crate::error::{Failure, preflight_result};
use crate::oras::Mode;
use crate::preflight;
use crate::ui::Ui;

pub fn run(args: DoctorArgs, ui: &Ui) -> Result<(), Failure> {
    let mut problems = Vec::new();
    let (oras, tar) = preflight::check_tools(&args.tools, &mut problems);
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
    preflight_result(problems)
}
