//! The `ls -l` line `sftp-server` puts in READDIR replies (its `ls_file`): mode, link count,
//! owner, group, size, date and name. Dates are UTC (the server has no time zone database).

use crate::FileAttributes;

/// `strmode(3)`: ten characters and a trailing space.
pub(crate) fn mode_string(mode: u32) -> [u8; 11] {
    let ty = match mode & 0o170_000 {
        0o040_000 => b'd',
        0o100_000 => b'-',
        0o120_000 => b'l',
        0o020_000 => b'c',
        0o060_000 => b'b',
        0o010_000 => b'p',
        0o140_000 => b's',
        _ => b'?',
    };
    let bit = |m: u32, c: u8| if mode & m != 0 { c } else { b'-' };
    let special = |x: u32, s: u32, on: u8, off: u8| match (mode & x != 0, mode & s != 0) {
        (true, true) => on,
        (false, true) => off,
        (true, false) => b'x',
        (false, false) => b'-',
    };
    [
        ty,
        bit(0o400, b'r'),
        bit(0o200, b'w'),
        special(0o100, 0o4000, b's', b'S'),
        bit(0o040, b'r'),
        bit(0o020, b'w'),
        special(0o010, 0o2000, b's', b'S'),
        bit(0o004, b'r'),
        bit(0o002, b'w'),
        special(0o001, 0o1000, b't', b'T'),
        b' ',
    ]
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1..=12, day) of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// `%b %e %H:%M` for the last six months, `%b %e  %Y` otherwise (as `ls` and `sftp-server`).
fn date(mtime: u32, now: u64) -> String {
    let t = i64::from(mtime);
    let (y, m, d) = civil(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400);
    let month = MONTHS
        .get(usize::try_from(m.saturating_sub(1)).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    let six_months = 365 * 86_400 / 2;
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    if t <= now && now - t < six_months {
        format!("{month} {d:>2} {:02}:{:02}", secs / 3600, secs % 3600 / 60)
    } else {
        format!("{month} {d:>2}  {y}")
    }
}

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
    out.extend_from_slice(&mode_string(attrs.permissions.unwrap_or(0)));
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
    out.extend_from_slice(format!("{size:>8} {} ", date(mtime, now)).as_bytes());
    out.extend_from_slice(name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(&mode_string(0o100_644), b"-rw-r--r-- ");
        assert_eq!(&mode_string(0o040_755), b"drwxr-xr-x ");
        assert_eq!(&mode_string(0o041_777), b"drwxrwxrwt ");
        assert_eq!(&mode_string(0o104_644), b"-rwSr--r-- ");
        assert_eq!(&mode_string(0o120_777), b"lrwxrwxrwx ");
    }

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        // 2024-03-05 06:07:00 UTC, shown with the time when recent, the year when old.
        let t = 1_709_618_820;
        assert_eq!(date(t, u64::from(t) + 10), "Mar  5 06:07");
        assert_eq!(date(t, u64::from(t) + 400 * 86_400), "Mar  5  2024");
    }

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
