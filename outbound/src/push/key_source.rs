//! Credentials given either inline or as a path to a file.

use crate::ConfigError;

/// The setting's text: itself when `inline` says it holds the content, else
/// the file it names.
pub(crate) fn text_or_file(
    variable: &'static str,
    value: &str,
    inline: impl Fn(&str) -> bool,
) -> Result<String, ConfigError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ConfigError::new(variable, "empty"));
    }
    if inline(value) {
        return Ok(value.to_owned());
    }
    std::fs::read_to_string(value)
        .map_err(|e| ConfigError::new(variable, format!("cannot read the file it names: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_is_used_as_it_is() {
        let text = text_or_file("X", " -----BEGIN A-----\\nabc\n", |v| v.contains("-----BEGIN")).unwrap();
        assert_eq!(text, "-----BEGIN A-----\\nabc");
    }

    #[test]
    fn a_path_is_read() {
        let path = std::env::temp_dir().join(format!("parley-key-source-{}", std::process::id()));
        std::fs::write(&path, "{\"a\":1}").unwrap();
        let text = text_or_file("X", path.to_str().unwrap(), |v| v.starts_with('{')).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(text, "{\"a\":1}");
    }

    #[test]
    fn a_missing_file_or_empty_value_names_the_variable() {
        let error = text_or_file("APNS_KEY_P8", "/nonexistent/key.p8", |_| false).unwrap_err();
        assert!(error.to_string().starts_with("APNS_KEY_P8: cannot read the file"), "{error}");
        assert_eq!(text_or_file("APNS_KEY_P8", "  ", |_| true).unwrap_err().reason, "empty");
    }
}
