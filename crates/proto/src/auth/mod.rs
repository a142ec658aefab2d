//! User authentication (RFC 4252).

pub mod client;
pub mod server;
