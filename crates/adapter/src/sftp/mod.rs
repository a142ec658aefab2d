//! The SFTP client over a channel, written once for every adapter: poll functions the
//! blocking and async crates wrap. (Being built for issue 13.)
