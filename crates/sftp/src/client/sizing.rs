//! Request sizing as OpenSSH's `sftp` does it (`sftp-client.c`, `do_init`): the read and
//! write lengths come from the server's `limits@openssh.com` reply (`sftp-server` announces
//! 261,120: its 256 KiB packet less 1024 bytes of headroom), and the number of requests in
//! flight is 64 scaled down to the server's open-handle limit; without the extension,
//! 32 KiB. We also cap the lengths so that a reply fits in our own maximum packet (OpenSSH
//! trusts the server's figure), and treat a zero (unknown) length as absent.

use crate::ext::Limits;
use crate::frame::DEFAULT_MAX_PACKET;

/// OpenSSH's `DEFAULT_COPY_BUFLEN`: the request size when the server sends no limits.
pub const FALLBACK_CHUNK: u32 = 32 * 1024;

/// Room OpenSSH leaves for headers in a packet (`SFTP_MAX_MSG_LENGTH - 1024`).
pub const PACKET_HEADROOM: u32 = 1024;

/// The largest request size: 261,120 bytes, what OpenSSH uses against `sftp-server`.
pub const MAX_CHUNK: u32 = DEFAULT_MAX_PACKET - PACKET_HEADROOM;

/// OpenSSH's `DEFAULT_NUM_REQUESTS`: requests in flight per transfer.
pub const OPENSSH_MAX_IN_FLIGHT: usize = 64;

/// The smallest chunk a pipeline shrinks to after short reads (OpenSSH's `MIN_READ_SIZE`).
pub const MIN_CHUNK: u32 = 512;

fn clamp_limit(limit: u64, max_packet: u32) -> u32 {
    let cap = max_packet
        .saturating_sub(PACKET_HEADROOM)
        .clamp(MIN_CHUNK, MAX_CHUNK);
    if limit == 0 {
        return FALLBACK_CHUNK.min(cap);
    }
    u32::try_from(limit)
        .unwrap_or(u32::MAX)
        .clamp(MIN_CHUNK, cap)
}

/// The READ length for a server's limits: its `max_read_length` capped at [`MAX_CHUNK`]
/// (261,120 against `sftp-server`); [`FALLBACK_CHUNK`] when the field is 0 (unknown).
pub fn chunk_from_limits(limits: &Limits) -> u32 {
    read_chunk(Some(limits), DEFAULT_MAX_PACKET)
}

/// The READ length for `limits` (`None` when the server lacks `limits@openssh.com`:
/// [`FALLBACK_CHUNK`]), also capped so a DATA reply fits in our `max_packet`
/// ([`ClientConfig::max_packet`](super::ClientConfig)).
pub fn read_chunk(limits: Option<&Limits>, max_packet: u32) -> u32 {
    clamp_limit(limits.map_or(0, |l| l.max_read_length), max_packet)
}

/// The WRITE length for `limits` (`None`: [`FALLBACK_CHUNK`]), also capped so the WRITE
/// packet fits in the server's `max_packet_length` when it gives one.
pub fn write_chunk(limits: Option<&Limits>) -> u32 {
    let server_packet = limits
        .map(|l| l.max_packet_length)
        .filter(|&p| p != 0)
        .map_or(DEFAULT_MAX_PACKET, |p| u32::try_from(p).unwrap_or(u32::MAX));
    clamp_limit(limits.map_or(0, |l| l.max_write_length), server_packet)
}

/// Requests in flight per transfer: OpenSSH's 64, scaled down to the server's
/// `max_open_handles` as OpenSSH does, or `wanted` when the caller sizes it itself (from the
/// channel window: see [`in_flight_for_window`]). At least 1.
pub fn max_in_flight(limits: Option<&Limits>, wanted: Option<usize>) -> usize {
    let base = wanted.unwrap_or(OPENSSH_MAX_IN_FLIGHT);
    let capped = match limits.map(|l| l.max_open_handles) {
        Some(h) if h != 0 && wanted.is_none() => base.min(usize::try_from(h).unwrap_or(usize::MAX)),
        _ => base,
    };
    capped.max(1)
}

/// Requests needed to keep `window` bytes in flight with `chunk`-sized requests, between
/// 1 and `cap` (a channel window of 16 MiB with 255 KiB chunks gives 65).
pub fn in_flight_for_window(window: u64, chunk: u32, cap: usize) -> usize {
    let chunk = u64::from(chunk.max(1));
    let n = window.div_ceil(chunk);
    usize::try_from(n)
        .unwrap_or(usize::MAX)
        .clamp(1, cap.max(1))
}
