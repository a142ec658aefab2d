//! `get`, `put`, `reget`, `reput`: sources (remote patterns, local shell patterns) to
//! destinations as OpenSSH's `sftp` picks them, with its messages; the copying itself
//! (pipelined, recursive, resumed, preserved) is the library's.

use super::commands::TransferFlags;
use super::interp::{Failed, Interp, basename, fail, marked, path_append};
use super::local;
use super::progress::Reporter;
use super::remote::{FsError, TransferOptions};
use super::words::Word;
use std::path::Path;

impl Interp<'_> {
    /// The options of one transfer: the command's flags and the session's (`-r`, `-p`, `-a`).
    fn options(&self, flags: TransferFlags) -> TransferOptions {
        TransferOptions {
            recursive: flags.recursive || self.global_recursive,
            preserve: flags.preserve || self.global_preserve,
            resume: flags.resume || self.global_resume,
            fsync: flags.fsync || self.global_fsync,
        }
    }

    /// `get [-afpR] remote [local]`.
    pub fn get(
        &mut self,
        flags: TransferFlags,
        src: &Word,
        dst: Option<&str>,
    ) -> Result<(), Failed> {
        let abs = self.absolute(&src.text);
        let found: Vec<_> = self
            .remote_matches(src)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(p, m)| m.map(|m| (p, m)))
            .collect();
        if found.is_empty() {
            return Err(fail(format!("File \"{abs}\" not found.")));
        }
        let dst_is_dir = dst.is_some_and(|d| Path::new(d).is_dir());
        if let (true, Some(d), false) = (found.len() > 1, dst, dst_is_dir) {
            return Err(fail(format!(
                "Multiple source paths, but destination \"{d}\" is not a directory"
            )));
        }
        let opts = self.options(flags);
        let mut result = Ok(());
        for (path, meta) in &found {
            let name = basename(path);
            let target = match dst {
                Some(d) if found.len() > 1 || dst_is_dir => path_append(d, name),
                Some(d) => d.to_owned(),
                None => name.to_owned(),
            };
            let shown = marked(path, meta.is_dir());
            if !self.quiet {
                let verb = if opts.resume { "Resuming" } else { "Fetching" };
                println!("{verb} {shown} to {target}");
            }
            if meta.is_dir() && !opts.recursive {
                result = Err(fail(format!("download {shown}: not a regular file")));
                continue;
            }
            let root = (opts.recursive && !self.quiet).then_some(path.as_str());
            let report = Reporter::new(false, root, self.progress);
            let progress = report.active().then(|| report.callback());
            let done = self.fs.get(path, Path::new(&target), opts, progress);
            report.finish();
            if let Err(e) = done {
                result = Err(fail(transfer_error(&e, false, path, &target)));
            }
        }
        result
    }

    /// `put [-afpR] local [remote]`.
    pub fn put(
        &mut self,
        flags: TransferFlags,
        src: &str,
        dst: Option<&Word>,
    ) -> Result<(), Failed> {
        let sources = match local::glob(src) {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => return Err(fail(format!("File \"{src}\" not found."))),
            Err(e) => return Err(fail(format!("stat {src}: {e}"))),
        };
        let dst_abs = dst.map(|d| self.absolute(&d.text));
        let dst_is_dir = dst_abs
            .as_deref()
            .is_some_and(|d| self.fs.stat(d).is_ok_and(|m| m.is_dir()));
        if let (true, Some(d), false) = (sources.len() > 1, &dst_abs, dst_is_dir) {
            return Err(fail(format!(
                "Multiple paths match, but destination \"{d}\" is not a directory"
            )));
        }
        let opts = self.options(flags);
        let mut result = Ok(());
        for source in &sources {
            let meta = match std::fs::metadata(source) {
                Ok(m) => m,
                Err(e) => {
                    result = Err(fail(format!("stat {source}: {}", crate::run::io_text(&e))));
                    continue;
                }
            };
            let name = basename(source);
            let target = match &dst_abs {
                Some(d) if sources.len() > 1 || dst_is_dir => path_append(d, name),
                Some(d) => d.clone(),
                None => self.absolute(name),
            };
            let shown = marked(source, meta.is_dir());
            if !self.quiet {
                let what = if opts.resume {
                    "Resuming upload of"
                } else {
                    "Uploading"
                };
                println!("{what} {shown} to {target}");
            }
            if meta.is_dir() && !opts.recursive {
                result = Err(fail(format!("local \"{shown}\" is not a regular file")));
                continue;
            }
            if !meta.is_dir() && !meta.is_file() {
                result = Err(fail(format!("local \"{shown}\" is not a regular file")));
                continue;
            }
            let root = (opts.recursive && !self.quiet).then_some(source.as_str());
            let report = Reporter::new(true, root, self.progress);
            let progress = report.active().then(|| report.callback());
            let done = self.fs.put(Path::new(source), &target, opts, progress);
            report.finish();
            if let Err(e) = done {
                result = Err(fail(transfer_error(&e, true, source, &target)));
            }
        }
        result
    }
}

/// A failed transfer's message, worded as OpenSSH's: the server refusing to open the
/// remote file (`remote open("/x"): ...` for downloads, `dest open "/x": ...` for uploads),
/// another remote failure with what the library was doing, or a local file's failure
/// (`open local "x": ...`).
pub fn transfer_error(e: &FsError, upload: bool, src: &str, dst: &str) -> String {
    if !e.remote {
        let local = if upload { src } else { dst };
        return format!("open local \"{local}\": {}", e.reason);
    }
    let opened = ["open ", "create "]
        .iter()
        .find_map(|verb| e.context.strip_prefix(verb));
    match (opened, upload) {
        (Some(path), false) => format!("remote open(\"{path}\"): {}", e.reason),
        (Some(path), true) => format!("dest open \"{path}\": {}", e.reason),
        (None, _) if e.context.is_empty() => {
            let what = if upload { "upload" } else { "download" };
            let remote = if upload { dst } else { src };
            format!("{what} \"{remote}\": {}", e.reason)
        }
        (None, _) => e.to_string(),
    }
}
