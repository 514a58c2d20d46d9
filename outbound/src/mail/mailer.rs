//! The SMTP transport: lettre over tokio with rustls, pooled connections.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};

use super::{
    Recipient,
    headers::{ListUnsubscribe, ListUnsubscribePost},
    smtp_url::{self, Security},
};
use crate::ConfigError;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A rendered email ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: Recipient,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Sent as `List-Unsubscribe` with one-click `List-Unsubscribe-Post`.
    pub unsubscribe_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the recipient address {0:?} is not an email address")]
    Recipient(String),
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl MailError {
    /// Whether trying again later may succeed (a 4xx reply, a lost
    /// connection), as opposed to a refusal that will not change.
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Smtp(error) => !error.is_permanent(),
            MailError::Recipient(_) | MailError::Build(_) => false,
        }
    }
}

/// Sends email through `SMTP_URL` as `EMAIL_FROM`.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    security: Security,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).field("security", &self.security).finish()
    }
}

impl Mailer {
    /// Checks both settings now, so a bad one stops the server at start-up.
    /// No connection is made until the first email. Call it inside the Tokio
    /// runtime: the connection pool keeps a task there.
    pub fn new(smtp_url: &str, email_from: &str) -> Result<Self, ConfigError> {
        let target = smtp_url::parse(smtp_url)?;
        let from: Mailbox = email_from.trim().parse().map_err(|_| {
            ConfigError::new("EMAIL_FROM", "not an email address (\"Name <user@host>\" or \"user@host\")")
        })?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| ConfigError::new("SMTP_URL", format!("TLS cannot be set up for this host: {e}")))
        };
        let tls = match target.security {
            Security::StartTlsWhenOffered => Tls::Opportunistic(tls(&target.host)?),
            Security::Tls => Tls::Wrapper(tls(&target.host)?),
            Security::Plain => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(target.host)
            .port(target.port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let Some((user, password)) = target.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self { transport: builder.build(), from, security: target.security })
    }

    pub fn security(&self) -> Security {
        self.security
    }

    /// The message as it would go on the wire, `Date` and `Message-ID` included.
    pub fn message(&self, email: &Email) -> Result<Message, MailError> {
        let to = Mailbox::new(
            Some(email.to.name.clone()).filter(|name| !name.trim().is_empty()),
            email.to.email.trim().parse().map_err(|_| MailError::Recipient(email.to.email.clone()))?,
        );
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(email.subject.clone());
        if let Some(url) = &email.unsubscribe_url {
            builder = builder.header(ListUnsubscribe(url.clone())).header(ListUnsubscribePost);
        }
        Ok(builder.multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))?)
    }

    #[tracing::instrument(skip_all)]
    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = self.message(email)?;
        self.transport.send(message).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email {
            to: Recipient { name: "Asha".into(), email: "asha@example.com".into() },
            subject: "Hello".into(),
            text: "plain".into(),
            html: "<p>html</p>".into(),
            unsubscribe_url: Some("https://app.example.com/unsubscribe?token=t".into()),
        }
    }

    #[tokio::test]
    async fn the_three_schemes_build_a_mailer() {
        for (url, security) in [
            ("smtp://u:p@mail.example.com:587", Security::StartTlsWhenOffered),
            ("smtps://mail.example.com", Security::Tls),
            ("smtp+plain://127.0.0.1:2525", Security::Plain),
        ] {
            assert_eq!(Mailer::new(url, "Parley <noreply@example.com>").unwrap().security(), security);
        }
    }

    #[tokio::test]
    async fn a_bad_sender_names_email_from() {
        let error = Mailer::new("smtp+plain://127.0.0.1", "not an address").unwrap_err();
        assert_eq!(error.variable, "EMAIL_FROM");
    }

    #[tokio::test]
    async fn a_bad_url_names_smtp_url() {
        assert_eq!(Mailer::new("smtp//nope", "noreply@example.com").unwrap_err().variable, "SMTP_URL");
    }

    #[tokio::test]
    async fn the_message_has_both_parts_and_the_unsubscribe_headers() {
        let mailer = Mailer::new("smtp+plain://127.0.0.1", "Parley <noreply@example.com>").unwrap();
        let wire = String::from_utf8(mailer.message(&email()).unwrap().formatted()).unwrap();
        assert!(wire.contains("List-Unsubscribe: <https://app.example.com/unsubscribe?token=t>"), "{wire}");
        assert!(wire.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{wire}");
        assert!(wire.contains("multipart/alternative"), "{wire}");
        assert!(wire.contains("text/plain") && wire.contains("text/html"), "{wire}");
        assert!(wire.contains("From: Parley <noreply@example.com>"), "{wire}");
    }

    #[tokio::test]
    async fn a_bad_recipient_is_refused_before_sending() {
        let mailer = Mailer::new("smtp+plain://127.0.0.1", "noreply@example.com").unwrap();
        let mut bad = email();
        bad.to.email = "nobody".into();
        assert!(matches!(mailer.message(&bad), Err(MailError::Recipient(_))));
        assert!(!MailError::Recipient("x".into()).is_transient());
    }
}
