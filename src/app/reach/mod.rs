//! Reaching users who are not connected (contract section 12): the
//! offline email after `EMAIL_DELAY_MS` ([`email`]), a push to registered
//! devices when a notification is created ([`push`]), and the operations
//! behind `/api/devices` and `/api/me/preferences` ([`account`]).

pub mod account;
pub mod email;
pub mod push;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use parley_outbound::{
    Backoff,
    mail::{Mailer, Site},
    push::{Apns, Fcm, PushProvider, RetryPolicy},
};

use crate::config::{ReachSettings, Settings};

/// The senders, built once from the settings.
pub struct Reach {
    pub mailer: Option<Mailer>,
    pub site: Site,
    pub delay: Duration,
    pub unsubscribe_secret: Vec<u8>,
    pub providers: Vec<Arc<dyn PushProvider>>,
    pub retry: RetryPolicy,
    /// Who holds an email claim: unique per running server.
    pub node: String,
}

impl Reach {
    /// Builds the mailer and push providers. A malformed credential stops
    /// a production server, naming its variable; development logs it and
    /// goes on without that provider. Call inside the Tokio runtime.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let s = &settings.reach;
        let production = settings.is_production();
        let mailer = match (&s.smtp_url, &s.email_from) {
            (Some(url), Some(from)) => Some(Mailer::new(url.expose(), from).context("email settings")?),
            _ => None,
        };
        let mut providers: Vec<Arc<dyn PushProvider>> = vec![];
        let refused = |e: parley_outbound::ConfigError| -> anyhow::Result<()> {
            if production {
                return Err(anyhow::anyhow!("{e}"));
            }
            tracing::warn!(error = %e, "push provider left off: its settings are malformed");
            Ok(())
        };
        if let Some(fcm) = fcm_settings(s) {
            match Fcm::new(&fcm) {
                Ok(p) => providers.push(Arc::new(p)),
                Err(e) => refused(e)?,
            }
        }
        if let Some(apns) = apns_settings(s) {
            match Apns::new(&apns) {
                Ok(p) => providers.push(Arc::new(p)),
                Err(e) => refused(e)?,
            }
        }
        Ok(Self {
            mailer,
            site: Site { name: s.app_name.clone(), url: s.app_url.clone() },
            delay: s.email_delay,
            unsubscribe_secret: s.unsubscribe_secret.expose().as_bytes().to_vec(),
            providers,
            retry: RetryPolicy {
                attempts: s.push_attempts.max(1),
                backoff: Backoff { first: s.push_backoff_first, max: Duration::from_secs(30) },
                max_wait: Duration::from_secs(60),
            },
            node: uuid::Uuid::now_v7().simple().to_string(),
        })
    }

    pub fn provider(&self, platform: &str) -> Option<&Arc<dyn PushProvider>> {
        self.providers.iter().find(|p| p.platform() == platform)
    }

    pub fn pushes(&self) -> bool {
        !self.providers.is_empty()
    }
}

fn fcm_settings(s: &ReachSettings) -> Option<parley_outbound::push::FcmSettings> {
    let f = s.fcm.as_ref()?;
    let mut out = parley_outbound::push::FcmSettings::new(f.service_account.expose());
    out.project_id = f.project_id.clone();
    out.api_base = f.api_base.clone();
    out.timeout = s.push_timeout;
    Some(out)
}

fn apns_settings(s: &ReachSettings) -> Option<parley_outbound::push::ApnsSettings> {
    let a = s.apns.as_ref()?;
    Some(parley_outbound::push::ApnsSettings {
        key_p8: a.key_p8.expose().to_string(),
        key_id: a.key_id.clone(),
        team_id: a.team_id.clone(),
        topic: a.topic.clone(),
        api_base: a.api_base.clone(),
        timeout: s.push_timeout,
    })
}
