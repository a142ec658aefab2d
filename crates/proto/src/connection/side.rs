//! [`Side`]: what differs between the client and the server role. Everything else about a
//! connection is written once, in [`Connection`].

use super::Connection;
use super::kind::{ChannelKind, OpenFailure};
use crate::error::Error;
use crate::keys::PrivateKey;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

/// The role of a connection: [`Client`](crate::client::Client) or
/// [`Server`](crate::server::Server). Sealed: the two roles are the only ones.
pub trait Side: private::Sealed {}

pub(crate) mod private {
    use super::*;

    /// The role's hooks, called by the common code of [`Connection`].
    pub trait Sealed: Sized + Send + core::fmt::Debug + 'static {
        /// Whether this is the server role.
        const SERVER: bool;

        /// Handles a message only the roles treat differently: the service request and
        /// accept, EXT_INFO and user authentication (50–79). `ext_info_allowed` says whether
        /// this packet directly follows the peer's first NEWKEYS.
        fn on_message(
            c: &mut Connection<Self>,
            n: u8,
            payload: Bytes,
            now: Instant,
            ext_info_allowed: bool,
        ) -> Result<(), Error>;

        /// Sends what must follow our NEWKEYS (the client's service request, the server's
        /// EXT_INFO), before held messages are released.
        fn after_new_keys(c: &mut Connection<Self>, first: bool) -> Result<(), Error>;

        /// The host keys the key exchange may sign with (none for a client).
        fn host_keys(&self) -> &[Arc<PrivateKey>];

        /// Whether user authentication has succeeded.
        fn is_authenticated(&self) -> bool;

        /// The role's own next deadline (delayed auth replies).
        fn deadline(&self) -> Option<Instant>;

        /// Runs the role's own timers due at `now`.
        fn on_timeout(c: &mut Connection<Self>, now: Instant) -> Result<(), Error>;

        /// Answers a role-specific decision whose token was dropped unanswered. Returns
        /// whether `serial` was one.
        fn answer_dropped(c: &mut Connection<Self>, serial: u64) -> Result<bool, Error>;

        /// The role's policy for an incoming open the direction allows: `Err` refuses it
        /// before the application hears of it.
        fn admit_open(
            c: &Connection<Self>,
            kind: &ChannelKind,
        ) -> Result<(), (OpenFailure, &'static str)>;
    }
}
