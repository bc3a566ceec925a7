//! tar: the argv of the documented archive command, and what `tar --version`
//! says about the implementation.

use camino::Utf8Path;

/// `tar -czvf ARCHIVE FOLDER`, run from the pack folder's parent so that the
/// archive holds the folder itself, as the documented command does.
pub fn create_args(archive: &Utf8Path, folder_name: &str) -> Vec<String> {
    vec!["-czvf".into(), archive.to_string(), folder_name.to_string()]
}

/// The first line of `tar --version`, e.g. `tar (GNU tar) 1.34`.
pub fn describe_version(output: &str) -> Option<String> {
    output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_archive_command() {
        assert_eq!(
            create_args("/out/mypack-1.0.0.tar.gz".into(), "mypack"),
            ["-czvf", "/out/mypack-1.0.0.tar.gz", "mypack"]
        );
    }

    #[test]
    fn version_line() {
        assert_eq!(
            describe_version("tar (GNU tar) 1.34\nCopyright...").as_deref(),
            Some("tar (GNU tar) 1.34")
        );
        assert_eq!(describe_version("\n"), None);
    }
}
