//! Test-only commands that make a connection misbehave on purpose, behind the `hostile-peer`
//! cargo feature (off by default): conformance tests build attack clients and servers with
//! them. Never enable the feature in a product.

use super::{Connection, Side};
use crate::error::{ApiMisuse, Error};
use crate::transport::MAX_PACKET_LEN;

impl<S: Side> Connection<S> {
    /// **Test only** (`hostile-peer` feature): sends `payload` (message number first) as one
    /// packet, sealed with the current keys, at once and unchecked: not held during a key
    /// exchange, not counted against the output cap, not seen by the key-exchange or channel
    /// state. A well-behaved connection never needs it; a test uses it to flood a peer with
    /// messages of its choice (unknown types, requests with want-reply, pings, KEXINITs).
    ///
    /// Refuses an empty payload or one over the packet cap with [`Error::ApiMisuse`].
    pub fn send_raw_message(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.core.t.check_alive()?;
        if payload.is_empty() || payload.len() > MAX_PACKET_LEN - 1024 {
            return Err(ApiMisuse::WrongState("raw message empty or over the packet cap").into());
        }
        let r = self.core.t.write_raw(&payload);
        self.check(r)
    }
}
