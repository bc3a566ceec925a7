//! A password that cannot be printed by accident: `Debug` and `Display`
//! show a placeholder, and the bytes are wiped when it is dropped.

use std::fmt;

use zeroize::Zeroizing;

/// What every rendering of a secret shows instead of it.
pub const REDACTED: &str = "<redacted>";

pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(Zeroizing::new(value))
    }

    /// The secret itself. The runner calls this to write it to a child's
    /// stdin (`oras login --password-stdin`); `guide` calls it only to copy
    /// it into another `Secret` that it hands on. Nothing prints or stores
    /// what it returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A second `Secret` holding the same value (wiped when dropped, too).
    pub fn copy(&self) -> Secret {
        Secret::new(self.0.to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_renders_the_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "hunter2");
    }

    /// `expose`'s documentation names its callers; this keeps it true.
    #[test]
    fn expose_is_called_where_its_documentation_says() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let call = [".expose", "()"].concat();
        let mut callers: Vec<String> = walkdir::WalkDir::new(&src)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
            .filter(|e| e.path() != src.join("secret.rs"))
            .filter(|e| std::fs::read_to_string(e.path()).unwrap().contains(&call))
            .map(|e| e.path().strip_prefix(&src).unwrap().display().to_string())
            .collect();
        callers.sort();
        assert_eq!(callers, ["commands/guide/mod.rs", "process.rs"]);
    }
}
