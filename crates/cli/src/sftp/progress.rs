//! The progress meter of `sftp` and `cp`: one indicatif bar per file, drawn on stdout only
//! when it is a terminal, in OpenSSH's format (`name  100%  512MB  95.2MB/s   00:05`), with
//! the transfer messages (`Entering`, `Retrieving`) before it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

/// `format_size` of OpenSSH's meter: `   3 `, `4096 `, ` 512MB`.
pub fn format_size(bytes: u64) -> String {
    const UNIT: [char; 5] = [' ', 'K', 'M', 'G', 'T'];
    let (mut n, mut i) = (bytes, 0);
    while n >= 10_000 && i + 1 < UNIT.len() {
        n = (n + 512) / 1024;
        i += 1;
    }
    let unit = UNIT.get(i).copied().unwrap_or('T');
    format!("{n:>4}{unit}{}", if i > 0 { "B" } else { " " })
}

/// `format_rate` of OpenSSH's meter: ` 95.2MB`, `  0.5KB`.
pub fn format_rate(bytes_per_sec: u64) -> String {
    const UNIT: [char; 5] = [' ', 'K', 'M', 'G', 'T'];
    let mut n = bytes_per_sec.saturating_mul(100);
    let mut i = 0;
    while n >= 100 * 1000 && i + 1 < UNIT.len() {
        n = (n + 512) / 1024;
        i += 1;
    }
    if i == 0 {
        i = 1;
        n = (n + 512) / 1024;
    }
    let unit = UNIT.get(i).copied().unwrap_or('T');
    format!("{:>3}.{}{unit}B", (n + 5) / 100, (n + 5) / 10 % 10)
}

/// `HH:MM:SS` or `  MM:SS`.
fn clock(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("  {m:02}:{s:02}")
    }
}

/// One meter line for a terminal `width` wide: the name padded to `width - 36`, percent,
/// bytes so far, rate, and the time left (`ETA`) or, when done, the time taken.
pub fn meter_line(name: &str, width: usize, pos: u64, len: u64, rate: u64, secs: u64) -> String {
    let mut line = String::new();
    let name_width = width.saturating_sub(36);
    if name_width > 0 {
        let shown: String = name.chars().take(name_width).collect();
        let _ = write!(line, "{shown:<name_width$}");
    }
    let percent = if len == 0 || pos >= len {
        100
    } else {
        pos.saturating_mul(100) / len
    };
    let left = len.saturating_sub(pos);
    let _ = write!(
        line,
        " {percent:>3}% {} {}/s ",
        format_size(pos),
        format_rate(rate)
    );
    if rate == 0 && left > 0 {
        line.push_str("  --:-- ETA");
    } else if left > 0 {
        let _ = write!(line, "{} ETA", clock(left / rate.max(1)));
    } else {
        let _ = write!(line, "{}    ", clock(secs));
    }
    line
}

/// What a transfer prints: the directory messages of a recursive transfer (unless quiet:
/// `Entering dir` for uploads, `Retrieving dir` for downloads, each directory from the root
/// down to the one holding the file that starts, once; empty directories are not seen) and
/// a meter per file (if on and stdout is a terminal). The library reports progress through
/// [`Reporter::callback`]; [`Reporter::finish`] (or dropping it) ends the last bar.
pub struct Reporter {
    inner: Arc<Mutex<Inner>>,
}

/// The state the callback updates.
struct Inner {
    /// The root of a recursive transfer whose directories are announced (`None`: none).
    root: Option<String>,
    /// The word before a directory.
    dir_word: &'static str,
    /// Draw bars.
    meter: bool,
    /// The file being transferred and its bar.
    current: Option<(String, Option<ProgressBar>)>,
    /// The directories announced.
    seen: std::collections::HashSet<String>,
    /// The terminal's width.
    width: usize,
}

impl Reporter {
    /// A reporter for an upload (`upload`) or a download; `root`: the source of a recursive
    /// transfer when its directories are to be announced.
    pub fn new(upload: bool, root: Option<&str>, meter: bool) -> Reporter {
        let width = crate::terminal::window_size(std::io::stdout())
            .map(|w| w.cols as usize)
            .ok()
            .filter(|w| *w > 0)
            .unwrap_or(80);
        Reporter {
            inner: Arc::new(Mutex::new(Inner {
                root: root.map(|r| r.trim_end_matches('/').to_owned()),
                dir_word: if upload { "Entering" } else { "Retrieving" },
                meter: meter && std::io::stdout().is_terminal(),
                current: None,
                seen: std::collections::HashSet::new(),
                width,
            })),
        }
    }

    /// Whether there is anything to report (else no callback is needed).
    pub fn active(&self) -> bool {
        self.inner
            .lock()
            .map(|i| i.meter || i.root.is_some())
            .unwrap_or(false)
    }

    /// The callback for the library: `(path, done, total)`.
    pub fn callback(&self) -> super::remote::Progress {
        let inner = self.inner.clone();
        Arc::new(move |path: &str, done: u64, total: u64| {
            if let Ok(mut i) = inner.lock() {
                i.update(path, done, total);
            }
        })
    }

    /// Ends the last bar (drawn complete if it was).
    pub fn finish(&self) {
        if let Ok(mut i) = self.inner.lock() {
            i.end_file();
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Inner {
    fn update(&mut self, path: &str, done: u64, total: u64) {
        if self.current.as_ref().is_none_or(|(p, _)| p != path) {
            self.end_file();
            self.start_file(path, total);
        }
        if let Some((_, Some(bar))) = &self.current {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    fn start_file(&mut self, path: &str, total: u64) {
        if let Some(root) = &self.root
            && let Some(below) = path.strip_prefix(root.as_str())
        {
            // Each directory from the root down to the file's, first time seen.
            let mut dir = root.clone();
            let mut parts: Vec<&str> = below.split('/').filter(|p| !p.is_empty()).collect();
            parts.pop();
            for next in std::iter::once(None).chain(parts.into_iter().map(Some)) {
                if let Some(p) = next {
                    dir = format!("{dir}/{p}");
                }
                if self.seen.insert(dir.clone()) {
                    println!("{} {dir}", self.dir_word);
                }
            }
        }
        let bar = self.meter.then(|| {
            let name = path.rsplit('/').next().unwrap_or(path).to_owned();
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
            bar.set_style(style(name, self.width));
            bar
        });
        self.current = Some((path.to_owned(), bar));
    }

    fn end_file(&mut self) {
        if let Some((_, Some(bar))) = self.current.take() {
            bar.finish();
        }
    }
}

/// The style drawing [`meter_line`] for `name` on a terminal `width` wide.
fn style(name: String, width: usize) -> ProgressStyle {
    let draw = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let secs = state.elapsed().as_secs();
        let rate = if state.is_finished() {
            let t = state.elapsed().as_secs_f64();
            if t > 0.0 {
                (state.pos() as f64 / t) as u64
            } else {
                0
            }
        } else {
            state.per_sec() as u64
        };
        let len = state.len().unwrap_or(0);
        let _ = w.write_str(&meter_line(&name, width, state.pos(), len, rate, secs));
    };
    ProgressStyle::with_template("{meter}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("meter", draw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates_as_openssh() {
        assert_eq!(format_size(3), "   3  ");
        assert_eq!(format_size(9999), "9999  ");
        assert_eq!(format_size(512 << 20), " 512MB");
        assert_eq!(format_rate(99_825_254), " 95.2MB");
        assert_eq!(format_rate(0), "  0.0KB");
    }

    #[test]
    fn meter_lines() {
        let done = meter_line("big", 80, 512 << 20, 512 << 20, 99_825_254, 5);
        assert_eq!(
            done,
            format!("{:<44} 100%  512MB  95.2MB/s   00:05    ", "big")
        );
        let half = meter_line("big", 80, 256 << 20, 512 << 20, 1 << 20, 1);
        assert!(
            half.ends_with(" 50%  256MB   1.0MB/s   04:16 ETA"),
            "{half}"
        );
        assert!(meter_line("x", 80, 0, 10, 0, 0).ends_with("  --:-- ETA"));
        assert!(meter_line("x", 30, 1, 1, 1, 0).starts_with(" 100%"));
    }
}
