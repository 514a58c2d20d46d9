//! Money: rupees in, integer paise stored, never floats.

use std::fmt;

use serde_json::{Value, json};

use crate::error::{AppError, AppResult};

/// At most ₹1,00,00,000 (ten million rupees).
pub const MAX_RUPEES: i64 = 10_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Paise(pub i64);

impl Paise {
    pub fn from_rupees(rupees: i64) -> Self {
        Self(rupees * 100)
    }

    /// Reads an amount in rupees: a JSON number, or a string such as
    /// `"5000"`, `"5,000"`, `"₹5,000.50"`. Positive, two decimals at most,
    /// at most 10,000,000.
    pub fn parse(field: &str, value: &Value) -> AppResult<Self> {
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => {
                return Err(AppError::invalid_field(field, "must be an amount in rupees"));
            }
        };
        Self::parse_str(&text).map_err(|why| AppError::invalid_field(field, why))
    }

    pub fn parse_str(raw: &str) -> Result<Self, &'static str> {
        let cleaned: String = raw
            .trim()
            .trim_start_matches('₹')
            .trim_start_matches("Rs.")
            .trim_start_matches("Rs")
            .trim_start_matches("INR")
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '_' && !c.is_whitespace())
            .collect();
        let (whole, frac) = match cleaned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (cleaned.as_str(), ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be an amount in rupees, like 5000 or 5000.50");
        }
        // JSON numbers such as 5000.0 print a trailing zero; only significant
        // digits past the second decimal are refused.
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 {
            return Err("must have at most two decimals");
        }
        if whole.len() > 9 {
            return Err("must be at most 10,000,000");
        }
        let rupees: i64 = whole.parse().map_err(|_| "must be an amount in rupees")?;
        let paise_part: i64 = format!("{frac:0<2}").parse().map_err(|_| "must be an amount in rupees")?;
        let paise = rupees * 100 + paise_part;
        if paise <= 0 {
            return Err("must be greater than zero");
        }
        if paise > MAX_RUPEES * 100 {
            return Err("must be at most 10,000,000");
        }
        Ok(Self(paise))
    }

    /// The rupee value as a JSON number: whole rupees as an integer,
    /// otherwise with two decimals.
    pub fn rupees_json(self) -> Value {
        if self.0 % 100 == 0 {
            json!(self.0 / 100)
        } else {
            // Exact: the decimal text is parsed, not computed in floating point.
            serde_json::from_str(&format!("{}.{:02}", self.0 / 100, self.0 % 100)).unwrap_or(Value::Null)
        }
    }

    /// `{amount, amount_paise}`, as amounts are shown in responses.
    pub fn both(self) -> Value {
        json!({ "amount": self.rupees_json(), "amount_paise": self.0 })
    }

    /// `share_bps` basis points of this amount, rounded to the nearest paisa.
    pub fn percent_bps(self, share_bps: u32) -> Self {
        Self((self.0 * share_bps as i64 + 5_000) / 10_000)
    }
}

impl fmt::Display for Paise {
    /// Indian grouping with the rupee sign: ₹5,000, ₹1,00,000, ₹12.50.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rupees = (self.0 / 100).to_string();
        let mut grouped = String::new();
        let n = rupees.len();
        for (i, ch) in rupees.chars().enumerate() {
            let left = n - i;
            grouped.push(ch);
            if left > 1 && (left == 4 || (left > 4 && (left - 4).is_multiple_of(2))) {
                grouped.push(',');
            }
        }
        if self.0 % 100 == 0 { write!(f, "₹{grouped}") } else { write!(f, "₹{grouped}.{:02}", self.0 % 100) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rupees_in_every_spelling() {
        for raw in ["5000", "5,000", "₹5,000", "₹ 5000", "5000.00", "Rs. 5,000"] {
            assert_eq!(Paise::parse_str(raw), Ok(Paise(500_000)), "{raw}");
        }
        assert_eq!(Paise::parse("p", &json!(5000)).unwrap(), Paise(500_000));
        assert_eq!(Paise::parse("p", &json!(19.99)).unwrap(), Paise(1999));
        assert_eq!(Paise::parse("p", &json!(5000.0)).unwrap(), Paise(500_000));
        assert_eq!(Paise::parse("p", &json!(10_000_000)).unwrap(), Paise(1_000_000_000));
    }

    #[test]
    fn refuses_bad_amounts() {
        for raw in ["0", "-5", "5.001", "abc", "", "10000000.01", "1e5", "99999999999"] {
            assert!(Paise::parse_str(raw).is_err(), "{raw}");
        }
        assert!(Paise::parse("p", &json!(true)).is_err());
        assert!(Paise::parse("p", &json!(-1)).is_err());
    }

    #[test]
    fn displays_indian_grouping() {
        assert_eq!(Paise::from_rupees(5000).to_string(), "₹5,000");
        assert_eq!(Paise::from_rupees(100_000).to_string(), "₹1,00,000");
        assert_eq!(Paise::from_rupees(10_000_000).to_string(), "₹1,00,00,000");
        assert_eq!(Paise::from_rupees(999).to_string(), "₹999");
        assert_eq!(Paise(1250).to_string(), "₹12.50");
    }

    #[test]
    fn rupees_json_is_exact_and_commission_rounds() {
        assert_eq!(Paise(1999).rupees_json(), json!(19.99));
        assert_eq!(Paise(500_000).rupees_json(), json!(5000));
        assert_eq!(Paise(500_000).percent_bps(1000), Paise(50_000));
        assert_eq!(Paise(333).percent_bps(1000), Paise(33));
    }
}
