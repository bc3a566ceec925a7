//! The push as data: every step with its purpose and exact commands, built
//! before anything runs. `--dry-run` prints it; execution walks it; tests
//! assert on it. Building a plan does no I/O.
//!
//! Several packs share one login (step 1) and one base-path push (step 3);
//! each pack has its own archive step (2), pack push (4) and verification
//! (5). Every pack's state-changing steps keep the documented order: login,
//! tar, empty base-path push, pack push.

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::error::Class;
use crate::oras::Oras;
use crate::reference::Target;
use crate::run::Command;
use crate::sources::Source;
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
                 (a re-run finishes it; uploaded blobs are reused)"
            }
            StepKind::Verify => "the pack was pushed, but not yet verified",
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
    /// Why the step runs no command (e.g. `--skip-login`), if it does not.
    pub skipped: Option<String>,
}

impl Step {
    fn new(kind: StepKind, purpose: String, commands: Vec<Command>) -> Step {
        Step {
            kind,
            number: kind.number(),
            purpose,
            commands,
            skipped: None,
        }
    }
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
    /// Where archives are written.
    pub output_dir: Utf8PathBuf,
}

impl Layout {
    pub fn base_manifest(&self) -> Utf8PathBuf {
        self.work_dir.join("base-manifest.json")
    }

    pub fn pack_manifest(&self, index: usize) -> Utf8PathBuf {
        self.work_dir.join(format!("pack-{index}-manifest.json"))
    }

    pub fn default_registry_config(work_dir: &Utf8Path) -> Utf8PathBuf {
        work_dir.join("registry-config.json")
    }
}

/// One pack's part of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct PackPlan {
    pub target: Target,
    /// The pack folder or the carried-in archive.
    pub source: String,
    /// Where the archive is (written by step 2, or carried in).
    pub archive: Utf8PathBuf,
    /// Whether packpush writes the archive (and so may remove it).
    pub archive_written: bool,
    /// Step 2: tar, or the check of a carried-in archive (no command).
    pub archive_step: Step,
    /// Read-only: `oras manifest fetch NAME:VERSION`, before the pack push.
    pub lookup: Command,
    /// Step 4.
    pub push: Step,
    /// Step 5 (the base-path fetch is completed with step 3's digest).
    pub verify: Step,
    pub export_manifest: Utf8PathBuf,
}

impl PackPlan {
    /// `name:version`, to label the pack in output.
    pub fn label(&self) -> String {
        format!("{}:{}", self.target.name, self.target.version)
    }
}

/// The whole push, before it runs.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub registry: String,
    pub project: String,
    pub login: Step,
    pub base: Step,
    pub packs: Vec<PackPlan>,
    #[serde(skip)]
    pub oras: Oras,
    #[serde(skip)]
    pub oras_display: String,
}

/// Placeholder shown for the base-path digest before step 3 has run.
pub const BASE_DIGEST_PLACEHOLDER: &str = "<digest from step 3>";

/// One pack as the preflight resolved it.
#[derive(Clone, Debug)]
pub struct PackInput {
    pub target: Target,
    pub source: Source,
    /// A fixed `org.opencontainers.image.created` (`--reproducible`).
    pub created: Option<String>,
    /// The time every entry of this pack's archive gets (`--reproducible`).
    pub fixed_mtime: Option<u64>,
}

/// The annotation that pins a manifest's creation time.
pub const CREATED: &str = "org.opencontainers.image.created";

fn created_annotation(created: Option<&String>) -> Vec<(String, String)> {
    created
        .map(|c| vec![(CREATED.to_string(), c.clone())])
        .unwrap_or_default()
}

#[derive(Debug)]
pub struct Inputs<'a> {
    pub oras: &'a Oras,
    pub oras_display: &'a str,
    pub tar: &'a Program,
    pub tar_options: &'a tar::Options,
    pub registry: &'a str,
    pub project: &'a str,
    pub packs: &'a [PackInput],
    /// `None` with `--skip-login`.
    pub username: Option<&'a str>,
    pub layout: &'a Layout,
    /// A fixed `created` for the base-path artifact (`--reproducible`).
    pub base_created: Option<&'a String>,
}

impl Plan {
    pub fn build(inputs: &Inputs<'_>) -> Plan {
        let Inputs {
            oras,
            oras_display,
            tar,
            tar_options,
            registry,
            project,
            packs,
            username,
            layout,
            base_created,
        } = inputs;
        let oras_command = |args: Vec<String>, cwd: &Utf8Path, stdin_secret: bool| Command {
            display: oras_display.to_string(),
            program: oras.program.clone(),
            args,
            cwd: cwd.to_owned(),
            stdin_secret,
        };
        let base_repository = format!("{registry}/{project}/{}", crate::reference::NAMESPACE);

        let mut login = Step::new(
            StepKind::Login,
            format!("log in to {registry}"),
            username
                .map(|user| {
                    vec![oras_command(
                        oras.login(registry, user),
                        &layout.work_dir,
                        true,
                    )]
                })
                .unwrap_or_default(),
        );
        login.skipped = username
            .is_none()
            .then(|| "--skip-login: using stored credentials".to_string());
        let base = Step::new(
            StepKind::PushBase,
            format!("create the base path {base_repository}"),
            vec![oras_command(
                oras.push(
                    &base_repository,
                    None,
                    &layout.base_manifest(),
                    &created_annotation(*base_created),
                ),
                &layout.work_dir,
                false,
            )],
        );

        let packs = packs
            .iter()
            .enumerate()
            .map(|(index, input)| {
                let target = &input.target;
                let archive_name = target.archive_name();
                let (archive, push_dir, archive_step, written) = match &input.source {
                    Source::Folder(dir) => {
                        let archive = layout.output_dir.join(&archive_name);
                        let step = Step::new(
                            StepKind::Archive,
                            format!(
                                "archive the pack folder '{}' as {archive_name}",
                                dir.folder_name
                            ),
                            vec![Command {
                                display: tar.display.clone(),
                                program: tar.path.clone(),
                                args: tar::create_args(
                                    &archive,
                                    &dir.folder_name,
                                    &tar::Options {
                                        fixed_mtime: input.fixed_mtime,
                                        ..(*tar_options).clone()
                                    },
                                ),
                                cwd: dir.parent.clone(),
                                stdin_secret: false,
                            }],
                        );
                        (archive, layout.output_dir.clone(), step, true)
                    }
                    Source::Archive(carried) => {
                        let mut step = Step::new(
                            StepKind::Archive,
                            format!(
                                "use the archive {} (checked: it holds {}/pack.json)",
                                carried.path, carried.folder_name
                            ),
                            vec![],
                        );
                        step.skipped =
                            Some("--archive: built elsewhere, checked by the preflight".into());
                        (carried.path.clone(), carried.dir.clone(), step, false)
                    }
                };
                let export_manifest = layout.pack_manifest(index);
                let lookup = oras_command(
                    oras.fetch_manifest(&target.pack_reference()),
                    &layout.work_dir,
                    false,
                );
                let push = Step::new(
                    StepKind::PushPack,
                    format!("push the pack to {}", target.pack_reference()),
                    vec![oras_command(
                        oras.push(
                            &target.pack_reference(),
                            Some(&archive_name),
                            &export_manifest,
                            &created_annotation(input.created.as_ref()),
                        ),
                        &push_dir,
                        false,
                    )],
                );
                // The base path is read back once per run (by the first pack
                // verified, which is the first pack unless it failed earlier).
                let mut reads = vec![oras_command(
                    oras.fetch_manifest(&target.pack_reference()),
                    &layout.work_dir,
                    false,
                )];
                if index == 0 {
                    reads.push(oras_command(
                        oras.fetch_manifest(&format!(
                            "{base_repository}@{BASE_DIGEST_PLACEHOLDER}"
                        )),
                        &layout.work_dir,
                        false,
                    ));
                }
                let verify = Step::new(
                    StepKind::Verify,
                    format!(
                        "verify what the registry holds for {}",
                        target.pack_reference()
                    ),
                    reads,
                );
                PackPlan {
                    target: target.clone(),
                    source: input.source.describe(),
                    archive,
                    archive_written: written,
                    archive_step,
                    lookup,
                    push,
                    verify,
                    export_manifest,
                }
            })
            .collect();
        Plan {
            registry: registry.to_string(),
            project: project.to_string(),
            login,
            base,
            packs,
            oras: (*oras).clone(),
            oras_display: oras_display.to_string(),
        }
    }

    /// The base-path repository: `REGISTRY/PROJECT/spectro-packs/archive`.
    pub fn base_repository(&self) -> String {
        format!(
            "{}/{}/{}",
            self.registry,
            self.project,
            crate::reference::NAMESPACE
        )
    }

    /// The command that reads back the base-path artifact once its digest is known.
    pub fn fetch_base(&self, digest: &str, cwd: &Utf8Path) -> Command {
        Command {
            display: self.oras_display.clone(),
            program: self.oras.program.clone(),
            args: self
                .oras
                .fetch_manifest(&format!("{}@{digest}", self.base_repository())),
            cwd: cwd.to_owned(),
            stdin_secret: false,
        }
    }

    /// Every step in the order a single-worker run executes them, with the
    /// pack each belongs to: 1, every 2, 3, then 4 and 5 per pack.
    pub fn ordered_steps(&self) -> Vec<(Option<&PackPlan>, &Step)> {
        let mut steps = vec![(None, &self.login)];
        steps.extend(self.packs.iter().map(|p| (Some(p), &p.archive_step)));
        steps.push((None, &self.base));
        for pack in &self.packs {
            steps.push((Some(pack), &pack.push));
            steps.push((Some(pack), &pack.verify));
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oras::{Mode, Tls};
    use crate::pack::PackDir;

    fn pack_input(name: &str) -> PackInput {
        PackInput {
            target: Target {
                registry: "r:5000".into(),
                project: "proj".into(),
                name: name.into(),
                version: "1.0.0".into(),
            },
            source: Source::Folder(PackDir {
                given: name.into(),
                path: format!("/src/{name}").into(),
                folder_name: name.into(),
                parent: "/src".into(),
            }),
            created: None,
            fixed_mtime: None,
        }
    }

    fn plan(mode: Mode, username: Option<&str>, packs: &[PackInput]) -> Plan {
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
        let layout = Layout {
            work_dir: "/w".into(),
            output_dir: "/out".into(),
        };
        Plan::build(&Inputs {
            oras: &oras,
            oras_display: "oras",
            tar: &tar,
            tar_options: &tar::Options::default(),
            registry: "r:5000",
            project: "proj",
            packs,
            username,
            layout: &layout,
            base_created: None,
        })
    }

    fn lines(plan: &Plan) -> Vec<String> {
        plan.ordered_steps()
            .iter()
            .flat_map(|(_, s)| s.commands.iter().map(|c| c.shell_line(false)))
            .collect()
    }

    #[test]
    fn steps_follow_the_documented_order() {
        let p = plan(Mode::Strict, Some("admin"), &[pack_input("mypack")]);
        let kinds: Vec<_> = p.ordered_steps().iter().map(|(_, s)| s.kind).collect();
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
        assert_eq!(
            lines(&p),
            [
                "oras login r:5000 --username admin --password-stdin --plain-http --registry-config /w/registry-config.json   # password on stdin: <redacted>",
                "tar -czvf /out/mypack-1.0.0.tar.gz mypack",
                "oras push r:5000/proj/spectro-packs/archive --plain-http --registry-config /w/registry-config.json --export-manifest /w/base-manifest.json",
                "oras push r:5000/proj/spectro-packs/archive/mypack:1.0.0 mypack-1.0.0.tar.gz --plain-http --registry-config /w/registry-config.json --export-manifest /w/pack-0-manifest.json",
                "oras manifest fetch --plain-http --registry-config /w/registry-config.json r:5000/proj/spectro-packs/archive/mypack:1.0.0",
                "oras manifest fetch --plain-http --registry-config /w/registry-config.json 'r:5000/proj/spectro-packs/archive@<digest from step 3>'",
            ]
        );
    }

    #[test]
    fn several_packs_share_login_and_base_and_keep_the_order() {
        let p = plan(
            Mode::Strict,
            Some("admin"),
            &[pack_input("a"), pack_input("b")],
        );
        let order: Vec<(Option<String>, usize)> = p
            .ordered_steps()
            .iter()
            .map(|(pack, s)| (pack.map(|p| p.target.name.clone()), s.number))
            .collect();
        let a = || Some("a".to_string());
        let b = || Some("b".to_string());
        assert_eq!(
            order,
            [
                (None, 1),
                (a(), 2),
                (b(), 2),
                (None, 3),
                (a(), 4),
                (a(), 5),
                (b(), 4),
                (b(), 5)
            ]
        );
        assert_ne!(p.packs[0].export_manifest, p.packs[1].export_manifest);
        // One base path, read back once: by the first pack's verification.
        assert_eq!(p.packs[0].verify.commands.len(), 2);
        assert_eq!(p.packs[1].verify.commands.len(), 1);
    }

    #[test]
    fn pack_push_runs_beside_the_archive_with_a_bare_name() {
        let p = plan(Mode::Strict, Some("admin"), &[pack_input("mypack")]);
        let push = &p.packs[0].push.commands[0];
        assert_eq!(push.cwd, "/out");
        assert_eq!(push.args[2], "mypack-1.0.0.tar.gz");
        assert_eq!(p.packs[0].archive_step.commands[0].cwd, "/src");
    }

    #[test]
    fn newer_oras_pushes_with_image_spec_v1_0() {
        let p = plan(Mode::Newer, Some("admin"), &[pack_input("mypack")]);
        for step in [&p.base, &p.packs[0].push] {
            let args = &step.commands[0].args;
            assert!(
                args.windows(2).any(|w| w == ["--image-spec", "v1.0"]),
                "{args:?}"
            );
        }
        assert!(
            !p.login.commands[0]
                .args
                .contains(&"--image-spec".to_string())
        );
    }

    #[test]
    fn each_pack_archives_with_its_own_fixed_time() {
        let mut a = pack_input("a");
        a.fixed_mtime = Some(1_600_000_000);
        let mut b = pack_input("b");
        b.fixed_mtime = Some(1_700_000_000);
        let p = plan(Mode::Strict, Some("admin"), &[a, b]);
        let mtime = |i: usize| {
            p.packs[i].archive_step.commands[0]
                .args
                .iter()
                .find(|a| a.starts_with("--mtime="))
                .cloned()
        };
        assert_eq!(mtime(0).as_deref(), Some("--mtime=@1600000000"));
        assert_eq!(mtime(1).as_deref(), Some("--mtime=@1700000000"));
    }

    #[test]
    fn skip_login_has_no_login_command() {
        let p = plan(Mode::Strict, None, &[pack_input("mypack")]);
        assert!(p.login.commands.is_empty());
        assert!(p.login.skipped.is_some());
    }
}
