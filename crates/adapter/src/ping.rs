//! Pings (`ping@openssh.com`) and the matching of their answers.

use crate::error::Error;
use crate::shared::Shared;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// One ping in flight: its data (a per-connection counter) and when it left. Several may be
/// in flight at once; each claims only its own answer.
#[derive(Debug)]
pub struct Ping {
    data: [u8; 8],
    start: Instant,
}

impl Ping {
    /// Sends a ping. `Ok(None)` if the server does not advertise `ping@openssh.com` (OpenSSH
    /// before 9.5, most other servers).
    pub fn send(shared: &Shared) -> Result<Option<Ping>, Error> {
        let mut st = shared.lock();
        st.check()?;
        if !st.client()?.can_ping() {
            return Ok(None);
        }
        st.ping_serial += 1;
        let data = st.ping_serial.to_be_bytes();
        st.client()?.ping(&data)?;
        st.wake_driver();
        Ok(Some(Ping {
            data,
            start: Instant::now(),
        }))
    }

    /// Ready with the round-trip time once the answer is in.
    pub fn poll(&self, shared: &Shared, cx: &mut Context<'_>) -> Poll<Result<Duration, Error>> {
        let mut st = shared.lock();
        if let Some(i) = st.pongs.iter().position(|p| p.as_ref() == self.data) {
            st.pongs.remove(i);
            return Poll::Ready(Ok(self.start.elapsed()));
        }
        st.check()?;
        st.control_waiters.register(cx.waker());
        Poll::Pending
    }
}
