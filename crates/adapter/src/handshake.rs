//! The client's handshake policy, once for every adapter: the host key is checked by the
//! configured [`HostKeyPolicy`](crate::HostKeyPolicy), then credentials are tried in the
//! configured order ([`AuthPlan`]).

use crate::auth::AuthPlan;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::shared::{Shared, State};
use seashell_proto::{ClientConnection, Event};
use std::task::{Context, Poll};

/// The handshake of a client connection, polled until the server accepts us. Policies that
/// may block (reading known_hosts, prompting for a password) run without the connection
/// locked.
#[derive(Debug)]
pub struct Handshake {
    host: String,
    port: u16,
    config: ClientConfig,
    plan: AuthPlan,
}

impl Handshake {
    /// The handshake with the server `host:port` (named for the host-key policy).
    pub fn new(host: &str, port: u16, config: ClientConfig) -> Handshake {
        Handshake {
            host: host.to_owned(),
            port,
            config,
            plan: AuthPlan::default(),
        }
    }

    /// Answers the handshake's events; ready once authenticated, or with the reason it
    /// failed.
    pub fn poll(&mut self, shared: &Shared, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            let ev = {
                let mut st = shared.lock();
                match st.control.pop_front() {
                    Some(ev) => ev,
                    None => {
                        st.check()?;
                        st.control_waiters.register(cx.waker());
                        return Poll::Pending;
                    }
                }
            };
            match ev {
                Event::HostKey(check) => {
                    let verdict =
                        self.config
                            .host_key_policy
                            .check(&self.host, self.port, check.key());
                    // Set now: the server announces its keys right after USERAUTH_SUCCESS,
                    // possibly before this handshake sees the success.
                    let update = match verdict {
                        Ok(()) => self.host_key_update(check.key()),
                        Err(_) => None,
                    };
                    let mut st = shared.lock();
                    st.host_key_update = update;
                    let r = match verdict {
                        Ok(()) => st.client()?.accept_host_key(check).map_err(Error::from),
                        Err(e) => {
                            let _ = st.client()?.reject_host_key(check);
                            Err(e)
                        }
                    };
                    st.wake_driver();
                    r?;
                }
                Event::AuthMethods {
                    methods, choice, ..
                } => {
                    let next = self.plan.next(&methods, &self.config);
                    let mut st = shared.lock();
                    let r = match next {
                        Some(m) => st.client()?.authenticate(choice, m).map_err(Error::from),
                        None => {
                            let _ = st.client()?.give_up_auth(choice, methods.clone());
                            Err(Error::Auth(format!(
                                "permission denied ({})",
                                methods.join(",")
                            )))
                        }
                    };
                    st.wake_driver();
                    r?;
                }
                Event::Authenticated => {
                    let mut st = shared.lock();
                    st.control_open = false;
                    st.control.clear();
                    return Poll::Ready(Ok(()));
                }
                _ => {}
            }
        }
    }
}

impl Handshake {
    /// The `UpdateHostKeys` state, if it is on and the host key was trusted through a plain
    /// known_hosts entry.
    fn host_key_update(
        &self,
        key: &seashell_proto::PublicKey,
    ) -> Option<crate::update_host_keys::HostKeyUpdate> {
        let files = self.config.update_host_keys.clone()?;
        if key.certificate().is_some() {
            return None;
        }
        let known = seashell_keys::KnownHosts::load_files(&files.all_files()).ok()?;
        known
            .host_keys(&self.host, self.port)
            .contains(key)
            .then(|| crate::update_host_keys::HostKeyUpdate {
                host: self.host.clone(),
                port: self.port,
                files,
                announced: Vec::new(),
            })
    }
}

impl State {
    /// The client core (every client operation goes through here).
    pub(crate) fn client(&mut self) -> Result<&mut ClientConnection, Error> {
        self.conn
            .as_client()
            .ok_or_else(|| Error::Refused("not a client connection".into()))
    }
}
