//! The payment gateway: a thin, typed Razorpay client on reqwest, or the
//! development sandbox that issues order ids without a network.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    config::RazorpaySettings,
    error::{AppError, AppResult, ErrorCode},
};

#[derive(Clone, Debug, Deserialize)]
pub struct Order {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub amount_paid: i64,
    #[serde(default)]
    pub status: String,
}

#[derive(Serialize)]
pub struct NewOrder<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub receipt: String,
    pub notes: Value,
}

pub enum Gateway {
    Razorpay(Razorpay),
    Sandbox,
}

pub struct Razorpay {
    http: reqwest::Client,
    base: String,
    key_id: String,
    key_secret: crate::config::Secret,
}

fn gateway_error(what: &str, detail: impl std::fmt::Display) -> AppError {
    tracing::warn!(%detail, "payment gateway: {what} failed");
    AppError::new(
        ErrorCode::PaymentGatewayError,
        format!("The payment gateway could not {what}; nothing was changed. Try again."),
    )
}

impl Gateway {
    pub fn from_settings(s: &RazorpaySettings, sandbox: bool) -> anyhow::Result<Self> {
        if sandbox {
            return Ok(Gateway::Sandbox);
        }
        let (Some(key_id), Some(key_secret)) = (s.key_id.clone(), s.key_secret.clone()) else {
            anyhow::bail!("RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET are required outside the development sandbox");
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(s.timeout))
            .timeout(s.timeout)
            .build()?;
        Ok(Gateway::Razorpay(Razorpay { http, base: s.api_base.clone(), key_id, key_secret }))
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self, Gateway::Sandbox)
    }

    pub async fn create_order(&self, order: &NewOrder<'_>) -> AppResult<Order> {
        match self {
            Gateway::Sandbox => Ok(Order {
                id: format!("order_sbx{}", &uuid::Uuid::now_v7().simple().to_string()[12..]),
                amount: order.amount,
                currency: order.currency.to_string(),
                amount_paid: 0,
                status: "created".into(),
            }),
            Gateway::Razorpay(r) => {
                let res = r
                    .http
                    .post(format!("{}/v1/orders", r.base))
                    .basic_auth(&r.key_id, Some(r.key_secret.expose()))
                    .json(order)
                    .send()
                    .await
                    .map_err(|e| gateway_error("create the order", e))?;
                r.parse(res, "create the order").await
            }
        }
    }

    pub async fn fetch_order(&self, id: &str) -> AppResult<Option<Order>> {
        match self {
            Gateway::Sandbox => Ok(None),
            Gateway::Razorpay(r) => {
                let res = r
                    .http
                    .get(format!("{}/v1/orders/{id}", r.base))
                    .basic_auth(&r.key_id, Some(r.key_secret.expose()))
                    .send()
                    .await
                    .map_err(|e| gateway_error("confirm the order", e))?;
                r.parse(res, "confirm the order").await.map(Some)
            }
        }
    }
}

impl Razorpay {
    async fn parse(&self, res: reqwest::Response, what: &str) -> AppResult<Order> {
        let status = res.status();
        if !status.is_success() {
            let body = res.text().await.unwrap_or_default();
            return Err(gateway_error(what, format!("HTTP {status}: {}", body.chars().take(300).collect::<String>())));
        }
        res.json::<Order>().await.map_err(|e| gateway_error(what, e))
    }
}
