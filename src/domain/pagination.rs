//! Page-based pagination: `page` from 1, `limit` with a per-list default,
//! at most 100.

use serde_json::{Value, json};

use crate::error::{AppError, AppResult};

pub const MAX_LIMIT: u64 = 100;

/// The last page a list may be asked for. Far beyond any real list, and
/// small enough that `page × limit` fits the databases' signed offsets.
pub const MAX_PAGE: u64 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub limit: u64,
}

impl Page {
    /// Reads optional raw values; a limit above 100 is lowered to 100.
    pub fn parse(page: Option<&str>, limit: Option<&str>, default_limit: u64) -> AppResult<Self> {
        let page = match page.map(str::trim).filter(|s| !s.is_empty()) {
            None => 1,
            Some(raw) => raw.parse::<u64>().ok().filter(|p| (1..=MAX_PAGE).contains(p)).ok_or_else(|| {
                AppError::invalid_field("page", format!("must be a whole number from 1 to {MAX_PAGE}"))
            })?,
        };
        let limit = match limit.map(str::trim).filter(|s| !s.is_empty()) {
            None => default_limit,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|l| *l >= 1)
                .ok_or_else(|| {
                    AppError::invalid_field(
                        "limit",
                        "must be a whole number from 1 (values above 100 are lowered to 100)",
                    )
                })?
                .min(MAX_LIMIT),
        };
        Ok(Self { page, limit })
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.limit)
    }

    pub fn json(&self, total: u64) -> Value {
        json!({
            "page": self.page,
            "limit": self.limit,
            "total": total,
            "has_more": self.page.saturating_mul(self.limit) < total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_errors() {
        assert_eq!(Page::parse(None, None, 50).unwrap(), Page { page: 1, limit: 50 });
        assert_eq!(Page::parse(Some("2"), Some("500"), 10).unwrap(), Page { page: 2, limit: 100 });
        assert!(Page::parse(Some("0"), None, 10).is_err());
        assert!(Page::parse(None, Some("0"), 10).is_err());
        assert!(Page::parse(Some("x"), None, 10).is_err());
        let p = Page { page: 2, limit: 10 };
        assert_eq!(p.offset(), 10);
        assert_eq!(p.json(20)["has_more"], false);
        assert_eq!(p.json(21)["has_more"], true);
    }
}
