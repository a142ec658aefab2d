//! The `ls -l` line `sftp-server` puts in READDIR replies (its `ls_file`): mode, link count,
//! owner, group, size, date and name. Dates are UTC (the server has no time zone database).

use crate::FileAttributes;
use crate::ls_format::{ls_date, mode_string};

/// The whole line: `-rw-r--r--    1 user     group        1234 Jan  2 12:34 name`.
pub(crate) fn longname(
    name: &[u8],
    attrs: &FileAttributes,
    nlink: u64,
    user: Option<&[u8]>,
    group: Option<&[u8]>,
    now: u64,
) -> Vec<u8> {
    let (uid, gid) = attrs.uid_gid.unwrap_or((0, 0));
    let user = user.map_or_else(|| uid.to_string().into_bytes(), <[u8]>::to_vec);
    let group = group.map_or_else(|| gid.to_string().into_bytes(), <[u8]>::to_vec);
    let mut out = Vec::with_capacity(64 + name.len() + user.len() + group.len());
    out.extend_from_slice(mode_string(attrs.permissions.unwrap_or(0)).as_bytes());
    out.push(b' ');
    out.extend_from_slice(format!(" {nlink:>3} ").as_bytes());
    for field in [&user, &group] {
        out.extend_from_slice(field);
        out.extend(std::iter::repeat_n(
            b' ',
            8usize.saturating_sub(field.len()),
        ));
        out.push(b' ');
    }
    let size = attrs.size.unwrap_or(0);
    let mtime = attrs.atime_mtime.map_or(0, |(_, m)| m);
    out.extend_from_slice(format!("{size:>8} {} ", ls_date(u64::from(mtime), now)).as_bytes());
    out.extend_from_slice(name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line() {
        let a = FileAttributes {
            size: Some(1234),
            uid_gid: Some((1000, 1000)),
            permissions: Some(0o100_644),
            atime_mtime: Some((0, 0)),
            extended: None,
        };
        let l = longname(b"f", &a, 1, Some(b"alice"), None, 0);
        assert_eq!(
            String::from_utf8_lossy(&l),
            "-rw-r--r--    1 alice    1000         1234 Jan  1 00:00 f"
        );
    }
}
