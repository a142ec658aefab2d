//! Output formats of `ls`, `df` and sizes, as OpenSSH's `sftp` prints them: `ls -l` lines
//! (`strmode`, `?` links, user and group, size, date, name), `ls` in columns, `-h` sizes
//! (`fmt_scaled`), `df` tables. Dates are shown in UTC.

use super::commands::LsFlags;
use super::remote::{FsStats, Meta};
pub use seashell_sftp::ls_format::{ls_date, mode_string as strmode};
use std::time::{SystemTime, UNIX_EPOCH};

/// OpenBSD's `fmt_scaled`: `0B`, `3B`, `4.0K`, `252G` (powers of 1024, one decimal below
/// 100 of a unit).
pub fn fmt_scaled(n: u64) -> String {
    const UNITS: [char; 7] = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
    if n == 0 {
        return "0B".to_owned();
    }
    let mut unit = 0;
    let mut scale: u64 = 1;
    while unit + 1 < UNITS.len() && n / 1024 >= scale {
        unit += 1;
        scale *= 1024;
    }
    let mut whole = n / scale;
    let mut fract = if unit == 0 {
        0
    } else {
        (n % scale) / (scale / 1024)
    };
    fract = (10 * fract + 512) / 1024;
    if fract >= 10 {
        whole += 1;
        fract = 0;
    }
    let u = UNITS.get(unit).copied().unwrap_or('E');
    if unit == 0 || whole >= 100 {
        if fract >= 5 {
            whole += 1;
        }
        format!("{whole}{u}")
    } else {
        format!("{whole}.{fract}{u}")
    }
}

/// Seconds since the epoch now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One `ls -l` line as OpenSSH's `ls_file` makes it for a remote file: links shown as `?`,
/// `user`/`group` names or else the numeric ids.
pub fn long_line(
    name: &str,
    meta: &Meta,
    user: Option<&str>,
    group: Option<&str>,
    human: bool,
) -> String {
    let (uid, gid) = meta.uid_gid.unwrap_or_default();
    let user = user.map_or_else(|| uid.to_string(), str::to_owned);
    let group = group.map_or_else(|| gid.to_string(), str::to_owned);
    let size = meta.size.unwrap_or(0);
    let size = if human {
        fmt_scaled(size)
    } else {
        size.to_string()
    };
    let date = meta
        .atime_mtime
        .map_or_else(String::new, |(_, m)| ls_date(m, now()));
    let mode = strmode(meta.mode.unwrap_or(0));
    format!(
        "{mode}  {:>3} {user:<8} {group:<8} {size:>8} {date} {name}",
        "?"
    )
}

/// The user and group of a server's `longname` (`-rw-r--r-- 1 user group ...`).
pub fn longname_owner(longname: &str) -> Option<(&str, &str)> {
    let mut fields = longname.split_whitespace();
    let (_, _, user, group) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    Some((user, group))
}

/// Sorts listing entries (name, attributes) as `ls` asks: by name, or `-S` size, or `-t`
/// time, `-r` reversed, `-f` not at all.
pub fn sort<T>(items: &mut [T], flags: &LsFlags, key: impl Fn(&T) -> (&str, &Meta)) {
    if flags.unsorted {
        return;
    }
    items.sort_by(|a, b| {
        let ((na, ma), (nb, mb)) = (key(a), key(b));
        let order = if flags.by_size {
            mb.size.cmp(&ma.size)
        } else if flags.by_time {
            let t = |m: &Meta| m.atime_mtime.map(|(_, t)| t);
            t(mb).cmp(&t(ma))
        } else {
            na.cmp(nb)
        };
        if flags.reverse {
            order.reverse()
        } else {
            order
        }
    });
}

/// Short `ls` output: names in columns across `width` (each name padded to the longest
/// plus two), or one per line with `-1`.
pub fn columns(names: &[String], width: usize, one_per_line: bool) -> String {
    let mut out = String::new();
    if one_per_line {
        for n in names {
            out.push_str(n);
            out.push('\n');
        }
        return out;
    }
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let cols = (width / (longest + 2)).max(1);
    let colspace = (width / cols).min(width);
    for (i, n) in names.iter().enumerate() {
        out.push_str(&format!("{n:<colspace$}"));
        if (i + 1).is_multiple_of(cols) {
            out.push('\n');
        }
    }
    if !names.len().is_multiple_of(cols) {
        out.push('\n');
    }
    out
}

/// `df`'s table: kilobytes, `-h` scaled sizes, or `-i` inodes.
pub fn df(st: &FsStats, human: bool, inodes: bool) -> String {
    let pct = |used: u64, total: u64| (100 * used).checked_div(total).unwrap_or(0);
    if inodes {
        let used = st.files.saturating_sub(st.ffree);
        return format!(
            "     Inodes        Used       Avail      (root)    %Capacity\n\
             {:>11} {:>11} {:>11} {:>11} {:>11}%\n",
            st.files,
            used,
            st.favail,
            st.ffree,
            pct(used, st.files)
        );
    }
    let bytes = |blocks: u64| st.frsize.saturating_mul(blocks);
    let used = st.blocks.saturating_sub(st.bfree);
    let capacity = pct(used, st.blocks);
    if human {
        format!(
            "    Size     Used    Avail   (root)    %Capacity\n\
             {:>7}B {:>7}B {:>7}B {:>7}B {capacity:>11}%\n",
            fmt_scaled(bytes(st.blocks)),
            fmt_scaled(bytes(used)),
            fmt_scaled(bytes(st.bavail)),
            fmt_scaled(bytes(st.bfree)),
        )
    } else {
        format!(
            "        Size         Used        Avail       (root)    %Capacity\n\
             {:>12} {:>12} {:>12} {:>12} {capacity:>11}%\n",
            bytes(st.blocks) / 1024,
            bytes(used) / 1024,
            bytes(st.bavail) / 1024,
            bytes(st.bfree) / 1024,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_sizes_as_openbsd() {
        assert_eq!(fmt_scaled(0), "0B");
        assert_eq!(fmt_scaled(3), "3B");
        assert_eq!(fmt_scaled(1023), "1023B");
        assert_eq!(fmt_scaled(4096), "4.0K");
        assert_eq!(fmt_scaled(264_212_084 * 1024), "252G");
        assert_eq!(fmt_scaled(25_806_200 * 1024), "24.6G");
        assert_eq!(fmt_scaled(1536), "1.5K");
    }

    #[test]
    fn long_lines_like_openssh() {
        let meta = Meta {
            size: Some(3),
            mode: Some(0o100_640),
            uid_gid: Some((1001, 1001)),
            atime_mtime: Some((0, 1_577_836_800)),
        };
        assert_eq!(
            long_line(
                "f1",
                &meta,
                Some("seashell-test"),
                Some("seashell-test"),
                false
            ),
            "-rw-r-----    ? seashell-test seashell-test        3 Jan  1  2020 f1"
        );
        assert_eq!(
            long_line("f1", &meta, None, None, true),
            "-rw-r-----    ? 1001     1001           3B Jan  1  2020 f1"
        );
        assert_eq!(
            longname_owner("-rw-r--r--    1 bob      staff  3 Jan  1  2020 f1"),
            Some(("bob", "staff"))
        );
    }

    #[test]
    fn short_listing_columns() {
        let names = ["a".to_owned(), "f1".to_owned()];
        assert_eq!(columns(&names, 80, false), "a   f1  \n");
        assert_eq!(columns(&names, 80, true), "a\nf1\n");
        let names: Vec<String> = (0..3).map(|i| format!("name{i}")).collect();
        assert_eq!(
            columns(&names, 12, false),
            "name0       \nname1       \nname2       \n"
        );
    }

    #[test]
    fn df_tables() {
        let st = FsStats {
            frsize: 1024,
            blocks: 264_212_084,
            bfree: 238_405_884,
            bavail: 69_479_688,
            files: 100,
            ffree: 40,
            favail: 40,
        };
        assert_eq!(
            df(&st, false, false),
            "        Size         Used        Avail       (root)    %Capacity\n   264212084     25806200     69479688    238405884           9%\n"
        );
        assert_eq!(
            df(&st, true, false),
            "    Size     Used    Avail   (root)    %Capacity\n   252GB   24.6GB   66.3GB    227GB           9%\n"
        );
        assert!(df(&st, false, true).ends_with("          60%\n"));
    }
}
