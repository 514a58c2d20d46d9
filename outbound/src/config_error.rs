use std::fmt;

/// A setting that cannot be used, named by its environment variable so the
/// server can refuse to start with a message the operator can act on. The
/// reason never contains the value itself (it may be a secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self { variable, reason: reason.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.reason)
    }
}
