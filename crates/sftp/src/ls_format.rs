//! `ls -l` formatting shared by the server's long names and clients' listings: `strmode(3)`
//! and `ls`'s date column. Dates are UTC (no time zone database).

/// `strmode(3)`: the type letter and the `rwx` bits with setuid, setgid and sticky, ten
/// characters (`drwxr-xr-x`, `-rwsr-xr-x`, `drwxrwxrwt`).
pub fn mode_string(mode: u32) -> String {
    let kind = match mode & 0o170_000 {
        0o040_000 => 'd',
        0o100_000 => '-',
        0o120_000 => 'l',
        0o020_000 => 'c',
        0o060_000 => 'b',
        0o010_000 => 'p',
        0o140_000 => 's',
        _ => '?',
    };
    let mut s = String::with_capacity(10);
    s.push(kind);
    let special = [
        (6, 0o4000, 's', 'S'),
        (3, 0o2000, 's', 'S'),
        (0, 0o1000, 't', 'T'),
    ];
    for (shift, bit, on_x, on_no_x) in special {
        let rwx = (mode >> shift) & 7;
        s.push(if rwx & 4 != 0 { 'r' } else { '-' });
        s.push(if rwx & 2 != 0 { 'w' } else { '-' });
        s.push(match (rwx & 1 != 0, mode & bit != 0) {
            (true, true) => on_x,
            (false, true) => on_no_x,
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    s
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

/// `ls`'s date column for `mtime` seen at `now` (both seconds since the epoch): `%b %e %H:%M`
/// within the last six months, `%b %e  %Y` otherwise (`Mar  5 06:07`, `Mar  5  2024`).
pub fn ls_date(mtime: u64, now: u64) -> String {
    let t = i64::try_from(mtime).unwrap_or(i64::MAX / 2);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(mode_string(0o100_644), "-rw-r--r--");
        assert_eq!(mode_string(0o040_755), "drwxr-xr-x");
        assert_eq!(mode_string(0o041_777), "drwxrwxrwt");
        assert_eq!(mode_string(0o104_644), "-rwSr--r--");
        assert_eq!(mode_string(0o104_755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o102_644), "-rw-r-Sr--");
        assert_eq!(mode_string(0o120_777), "lrwxrwxrwx");
    }

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        // 2024-03-05 06:07:00 UTC, shown with the time when recent, the year when old.
        let t = 1_709_618_820;
        assert_eq!(ls_date(t, t + 10), "Mar  5 06:07");
        assert_eq!(ls_date(t, t + 400 * 86_400), "Mar  5  2024");
        assert_eq!(ls_date(951_782_400, 2_000_000_000), "Feb 29  2000");
        let jan2020 = 1_577_836_800;
        assert_eq!(
            ls_date(jan2020 + 3600 + 120, jan2020 + 86_400),
            "Jan  1 01:02"
        );
    }
}
