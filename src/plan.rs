//! The push as data: every step with its purpose and exact commands, built
//! before anything runs. `--dry-run` prints it; execution walks it; tests
//! assert on it. Building a plan does no I/O.

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::error::Class;
use crate::oras::Oras;
use crate::pack::PackDir;
use crate::reference::Target;
use crate::run::Command;
use crate::tar;

/// The steps of the documented procedure, in their documented order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Login,
    Archive,
    PushBase,
    PushPack,
    Verify,
}

impl StepKind {
    /// The step's number, fixed so that "step 3" always means the same thing.
    pub fn number(self) -> usize {
        match self {
            StepKind::Login => 1,
            StepKind::Archive => 2,
            StepKind::PushBase => 3,
            StepKind::PushPack => 4,
            StepKind::Verify => 5,
        }
    }

    /// Which failure class (and so exit code) a failure of this step has.
    pub fn failure_class(self) -> Class {
        match self {
            StepKind::Login => Class::Login,
            StepKind::Archive => Class::Archive,
            StepKind::PushBase | StepKind::PushPack => Class::Push,
            StepKind::Verify => Class::Verify,
        }
    }

    /// What the registry may hold if the run stopped during this step.
    pub fn registry_state_if_stopped(self) -> &'static str {
        match self {
            StepKind::Login | StepKind::Archive => "nothing was pushed to the registry",
            StepKind::PushBase => {
                "the empty base-path artifact may or may not have been pushed (harmless; a re-run pushes it again)"
            }
            StepKind::PushPack => {
                "the base-path artifact is in the registry; the pack's tag may be missing or complete \
                 (a re-run pushes it again; uploaded blobs are reused)"
            }
            StepKind::Verify => "both artifacts were pushed, but not yet verified",
        }
    }
}

/// One step: what it is for and the commands it runs.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub kind: StepKind,
    pub number: usize,
    /// One line of intent, used in announcements and errors.
    pub purpose: String,
    pub commands: Vec<Command>,
    /// Why the step does not run (e.g. `--skip-login`), if it does not.
    pub skipped: Option<String>,
}

/// A program as found by the preflight: the path to start and the name to show.
#[derive(Clone, Debug)]
pub struct Program {
    pub path: Utf8PathBuf,
    pub display: String,
}

/// Where the run keeps its files.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Private folder: registry config (unless given) and exported manifests.
    pub work_dir: Utf8PathBuf,
    /// Where the archive is written.
    pub output_dir: Utf8PathBuf,
}

impl Layout {
    pub fn base_manifest(&self) -> Utf8PathBuf {
        self.work_dir.join("base-manifest.json")
    }

    pub fn pack_manifest(&self) -> Utf8PathBuf {
        self.work_dir.join("pack-manifest.json")
    }

    pub fn default_registry_config(work_dir: &Utf8Path) -> Utf8PathBuf {
        work_dir.join("registry-config.json")
    }
}

/// The whole push, before it runs.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub target: Target,
    pub pack_dir: Utf8PathBuf,
    pub archive: Utf8PathBuf,
    pub steps: Vec<Step>,
    #[serde(skip)]
    pub oras: Oras,
    #[serde(skip)]
    pub oras_display: String,
}

/// Placeholder shown for the base-path digest before step 3 has run.
pub const BASE_DIGEST_PLACEHOLDER: &str = "<digest from step 3>";

#[derive(Debug)]
pub struct Inputs<'a> {
    pub oras: &'a Oras,
    pub oras_display: &'a str,
    pub tar: &'a Program,
    pub target: &'a Target,
    pub pack: &'a PackDir,
    /// `None` with `--skip-login`.
    pub username: Option<&'a str>,
    pub layout: &'a Layout,
    pub annotations: &'a [(String, String)],
}

impl Plan {
    pub fn build(inputs: &Inputs<'_>) -> Plan {
        let Inputs {
            oras,
            oras_display,
            tar,
            target,
            pack,
            username,
            layout,
            annotations,
        } = inputs;
        let archive_name = target.archive_name();
        let archive = layout.output_dir.join(&archive_name);
        let oras_command = |args: Vec<String>, cwd: &Utf8Path, stdin_secret: bool| Command {
            display: oras_display.to_string(),
            program: oras.program.clone(),
            args,
            cwd: cwd.to_owned(),
            stdin_secret,
        };

        let login = Step {
            kind: StepKind::Login,
            number: StepKind::Login.number(),
            purpose: format!("log in to {}", target.registry),
            commands: username
                .map(|user| {
                    vec![oras_command(
                        oras.login(&target.registry, user),
                        &layout.work_dir,
                        true,
                    )]
                })
                .unwrap_or_default(),
            skipped: username
                .is_none()
                .then(|| "--skip-login: using stored credentials".to_string()),
        };
        let archive_step = Step {
            kind: StepKind::Archive,
            number: StepKind::Archive.number(),
            purpose: format!(
                "archive the pack folder '{}' as {archive_name}",
                pack.folder_name
            ),
            commands: vec![Command {
                display: tar.display.clone(),
                program: tar.path.clone(),
                args: tar::create_args(&archive, &pack.folder_name),
                cwd: pack.parent.clone(),
                stdin_secret: false,
            }],
            skipped: None,
        };
        let base = Step {
            kind: StepKind::PushBase,
            number: StepKind::PushBase.number(),
            purpose: format!("create the base path {}", target.base_repository()),
            commands: vec![oras_command(
                oras.push(
                    &target.base_repository(),
                    None,
                    &layout.base_manifest(),
                    annotations,
                ),
                &layout.work_dir,
                false,
            )],
            skipped: None,
        };
        let pack_step = Step {
            kind: StepKind::PushPack,
            number: StepKind::PushPack.number(),
            purpose: format!("push the pack to {}", target.pack_reference()),
            commands: vec![oras_command(
                oras.push(
                    &target.pack_reference(),
                    Some(&archive_name),
                    &layout.pack_manifest(),
                    annotations,
                ),
                &layout.output_dir,
                false,
            )],
            skipped: None,
        };
        let verify = Step {
            kind: StepKind::Verify,
            number: StepKind::Verify.number(),
            purpose: "verify what the registry holds".to_string(),
            commands: vec![
                oras_command(
                    oras.fetch_manifest(&target.pack_reference()),
                    &layout.work_dir,
                    false,
                ),
                oras_command(
                    oras.fetch_manifest(&format!(
                        "{}@{BASE_DIGEST_PLACEHOLDER}",
                        target.base_repository()
                    )),
                    &layout.work_dir,
                    false,
                ),
            ],
            skipped: None,
        };
        Plan {
            target: (*target).clone(),
            pack_dir: pack.path.clone(),
            archive,
            steps: vec![login, archive_step, base, pack_step, verify],
            oras: (*oras).clone(),
            oras_display: oras_display.to_string(),
        }
    }

    /// The command that reads back the base-path artifact once its digest is known.
    pub fn fetch_base(&self, digest: &str, cwd: &Utf8Path) -> Command {
        Command {
            display: self.oras_display.clone(),
            program: self.oras.program.clone(),
            args: self
                .oras
                .fetch_manifest(&format!("{}@{digest}", self.target.base_repository())),
            cwd: cwd.to_owned(),
            stdin_secret: false,
        }
    }

    pub fn step(&self, kind: StepKind) -> &Step {
        self.steps
            .iter()
            .find(|s| s.kind == kind)
            .expect("every plan has every step")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oras::{Mode, Tls};

    fn plan(mode: Mode, username: Option<&str>) -> Plan {
        let oras = Oras {
            program: "/opt/oras".into(),
            mode,
            tls: Tls::PlainHttp,
            registry_config: Some("/w/registry-config.json".into()),
        };
        let tar = Program {
            path: "/bin/tar".into(),
            display: "tar".into(),
        };
        let target = Target {
            registry: "r:5000".into(),
            project: "proj".into(),
            name: "mypack".into(),
            version: "1.0.0".into(),
        };
        let pack = PackDir {
            given: "mypack".into(),
            path: "/src/mypack".into(),
            folder_name: "mypack".into(),
            parent: "/src".into(),
        };
        let layout = Layout {
            work_dir: "/w".into(),
            output_dir: "/out".into(),
        };
        Plan::build(&Inputs {
            oras: &oras,
            oras_display: "oras",
            tar: &tar,
            target: &target,
            pack: &pack,
            username,
            layout: &layout,
            annotations: &[],
        })
    }

    #[test]
    fn steps_follow_the_documented_order() {
        let p = plan(Mode::Strict, Some("admin"));
        let kinds: Vec<_> = p.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::Login,
                StepKind::Archive,
                StepKind::PushBase,
                StepKind::PushPack,
                StepKind::Verify
            ]
        );
        let lines: Vec<String> = p
            .steps
            .iter()
            .flat_map(|s| s.commands.iter().map(|c| c.shell_line(false)))
            .collect();
        assert_eq!(
            lines,
            [
                "oras login r:5000 --username admin --password-stdin --plain-http --registry-config /w/registry-config.json   # password on stdin: <redacted>",
                "tar -czvf /out/mypack-1.0.0.tar.gz mypack",
                "oras push r:5000/proj/spectro-packs/archive --plain-http --registry-config /w/registry-config.json --export-manifest /w/base-manifest.json",
                "oras push r:5000/proj/spectro-packs/archive/mypack:1.0.0 mypack-1.0.0.tar.gz --plain-http --registry-config /w/registry-config.json --export-manifest /w/pack-manifest.json",
                "oras manifest fetch --plain-http --registry-config /w/registry-config.json r:5000/proj/spectro-packs/archive/mypack:1.0.0",
                "oras manifest fetch --plain-http --registry-config /w/registry-config.json 'r:5000/proj/spectro-packs/archive@<digest from step 3>'",
            ]
        );
    }

    #[test]
    fn pack_push_runs_beside_the_archive_with_a_bare_name() {
        let p = plan(Mode::Strict, Some("admin"));
        let push = &p.step(StepKind::PushPack).commands[0];
        assert_eq!(push.cwd, "/out");
        assert_eq!(push.args[2], "mypack-1.0.0.tar.gz");
        let tar = &p.step(StepKind::Archive).commands[0];
        assert_eq!(tar.cwd, "/src");
    }

    #[test]
    fn newer_oras_pushes_with_image_spec_v1_0() {
        let p = plan(Mode::Newer, Some("admin"));
        for kind in [StepKind::PushBase, StepKind::PushPack] {
            let args = &p.step(kind).commands[0].args;
            assert!(
                args.windows(2).any(|w| w == ["--image-spec", "v1.0"]),
                "{args:?}"
            );
        }
        assert!(
            !p.step(StepKind::Login).commands[0]
                .args
                .contains(&"--image-spec".to_string())
        );
    }

    #[test]
    fn skip_login_has_no_login_command() {
        let p = plan(Mode::Strict, None);
        let login = p.step(StepKind::Login);
        assert!(login.commands.is_empty());
        assert!(login.skipped.is_some());
    }
}
