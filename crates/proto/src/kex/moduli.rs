//! A parser for OpenSSH's `moduli` file (`moduli(5)`), the group-exchange server's list of
//! safe primes. Each line is `time type tests tries size generator modulus`: `type` 2 is a
//! safe prime, `tests` a bit mask (bit 0 set = known composite), `size` the modulus size in
//! bits minus one, `generator` and `modulus` hexadecimal. Comments (`#`), blank lines and any
//! line that does not check out are skipped, as sshd does.

use super::dh::{MAX_MODP_BITS, Modp, parse_hex};
use super::gex::MIN_BITS;

/// Most groups kept from one file (Debian's has a few hundred).
pub const MAX_GROUPS: usize = 4096;
/// Lines longer than this cannot hold an acceptable group and are skipped unread.
const MAX_LINE: usize = 4096;
/// `moduli(5)` type of a safe prime.
const TYPE_SAFE: &str = "2";
/// `moduli(5)` test bit: the number is known composite.
const TESTS_COMPOSITE: u32 = 0x01;

/// Parses a `moduli` file's text into the groups a server may offer (2048 to 8192 bits),
/// keeping at most [`MAX_GROUPS`].
pub fn parse_moduli(text: &str) -> Vec<Modp> {
    text.lines()
        .filter(|l| l.len() <= MAX_LINE)
        .filter_map(parse_line)
        .take(MAX_GROUPS)
        .collect()
}

fn parse_line(line: &str) -> Option<Modp> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut f = line.split_whitespace();
    let _time = f.next().filter(|t| t.bytes().all(|b| b.is_ascii_digit()))?;
    if f.next()? != TYPE_SAFE {
        return None;
    }
    let tests: u32 = f.next()?.parse().ok()?;
    if tests & TESTS_COMPOSITE != 0 || tests & !TESTS_COMPOSITE == 0 {
        return None;
    }
    let tries: u32 = f.next()?.parse().ok()?;
    if tries == 0 {
        return None;
    }
    let size: u32 = f.next()?.parse().ok()?;
    let generator = parse_hex_odd(f.next()?)?;
    let modulus = parse_hex_odd(f.next()?)?;
    if f.next().is_some() {
        return None;
    }
    let group = Modp::new(&modulus, &generator).ok()?;
    let bits = size.checked_add(1)?;
    (group.bits() == bits && (MIN_BITS..=MAX_MODP_BITS).contains(&bits)).then_some(group)
}

/// Hex of any length (a generator is written `2` or `5`).
fn parse_hex_odd(h: &str) -> Option<Vec<u8>> {
    if !h.len().is_multiple_of(2) {
        parse_hex(&format!("0{h}"))
    } else {
        parse_hex(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kex::dh::Group;

    fn hex(g: Group) -> String {
        g.prime().iter().map(|b| format!("{b:02X}")).collect()
    }

    #[test]
    fn parses_good_lines_and_skips_bad_ones() {
        let p14 = hex(Group::G14);
        let p15 = hex(Group::G15);
        let text = format!(
            "# Time Type Tests Tries Size Generator Modulus\n\
             \n\
             20230101000000 2 6 100 2047 2 {p14}\n\
             20230101000000 2 6 100 3071 5 {p15}\n\
             20230101000000 2 6 100 2048 2 {p14}\n\
             20230101000000 1 6 100 2047 2 {p14}\n\
             20230101000000 2 7 100 2047 2 {p14}\n\
             20230101000000 2 0 100 2047 2 {p14}\n\
             20230101000000 2 6 0 2047 2 {p14}\n\
             20230101000000 2 6 100 2047 1 {p14}\n\
             20230101000000 2 6 100 2047 2 {p14}00\n\
             20230101000000 2 6 100 2047 2 {p14} extra\n\
             20230101000000 2 6 100 2047 2 zz{p14}\n\
             20230101000000 2 6 100 1023 2 {}\n\
             garbage\n",
            hex(Group::G1)
        );
        let groups = parse_moduli(&text);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0], Group::G14.modp());
        assert_eq!(groups[1].bits(), 3072);
        assert_eq!(groups[1].generator(), &[5]);
    }

    #[test]
    fn bounded_and_never_panics() {
        let line = format!("1 2 6 100 2047 2 {}\n", hex(Group::G14));
        assert_eq!(parse_moduli(&line.repeat(MAX_GROUPS + 3)).len(), MAX_GROUPS);
        for junk in [
            "",
            "\n\n",
            "1 2 6",
            "1 2 6 100 99999999999 2 ff",
            "1 2 6 100 7 2 ff",
        ] {
            assert!(parse_moduli(junk).is_empty());
        }
        assert!(parse_moduli(&"f".repeat(MAX_LINE + 1)).is_empty());
    }

    /// The system's file, when there is one (Debian ships /etc/ssh/moduli): every line that
    /// is not a comment parses.
    #[test]
    fn system_moduli_file_parses() {
        let Ok(text) = std::fs::read_to_string("/etc/ssh/moduli") else {
            return;
        };
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        let groups = parse_moduli(&text);
        assert_eq!(groups.len(), lines.min(MAX_GROUPS));
        assert!(groups.iter().all(|g| g.bits() >= 2048));
    }
}
