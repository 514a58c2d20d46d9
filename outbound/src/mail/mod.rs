//! Email to offline users (contract section 12): the SMTP transport built
//! from `SMTP_URL` and `EMAIL_FROM`, and the offline digest it sends. When to
//! send (delay, once per burst, preferences, one node) is the server's.

mod digest;
mod headers;
mod mailer;
mod smtp_url;
pub mod unsubscribe;

pub use digest::{
    DigestConversation, DigestMessage, MAX_LISTED, OfflineDigest, Recipient, Site, UNSUBSCRIBE_PATH, render_digest,
};
pub use headers::{ListUnsubscribe, ListUnsubscribePost};
pub use mailer::{Email, MailError, Mailer};
pub use smtp_url::Security;
