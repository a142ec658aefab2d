//! `ls`: a directory's entries, or a pattern's matches, short (in columns, or `-1`) or
//! long (`-l`, `-n`, `-h`), sorted as asked.

use super::commands::LsFlags;
use super::interp::{Failed, Interp, fail, marked, path_append, path_strip};
use super::listing;
use super::remote::Meta;
use super::words::Word;

/// One line of output to be: the name as shown, its attributes, and the server's longname.
struct Item {
    name: String,
    meta: Meta,
    longname: String,
}

impl Interp<'_> {
    /// `ls [flags] [path]`.
    pub fn ls(&mut self, flags: LsFlags, path: Option<&Word>) -> Result<(), Failed> {
        let Some(word) = path else {
            let pwd = self.pwd.clone();
            return self.ls_dir(&pwd, Some(&pwd), flags);
        };
        let strip = (!word.text.starts_with('/')).then(|| self.pwd.clone());
        let matches = self.remote_matches(word).unwrap_or_default();
        let found: Vec<(String, Meta)> = matches
            .into_iter()
            .filter_map(|(p, m)| m.map(|m| (p, m)))
            .collect();
        if found.is_empty() {
            return Err(fail(format!(
                "Can't ls: \"{}\" not found",
                self.absolute(&word.text)
            )));
        }
        if let [(dir, meta)] = found.as_slice()
            && meta.is_dir()
        {
            return self.ls_dir(dir, strip.as_deref(), flags);
        }
        // For names in the long format: the server's longnames, from each parent's listing.
        let mut longnames = std::collections::HashMap::new();
        if flags.long && !flags.numeric {
            let mut parents: Vec<&str> = found.iter().map(|(p, _)| parent(p)).collect();
            parents.dedup();
            for dir in parents {
                for e in self.fs.read_dir(dir).unwrap_or_default() {
                    longnames.insert(path_append(dir, &e.name), e.longname);
                }
            }
        }
        let mut items: Vec<Item> = found
            .into_iter()
            .map(|(p, meta)| {
                let shown = path_strip(&p, strip.as_deref());
                let longname = longnames.remove(&p).unwrap_or_default();
                Item {
                    name: if flags.long {
                        shown
                    } else {
                        marked(&shown, meta.is_dir())
                    },
                    meta,
                    longname,
                }
            })
            .collect();
        listing::sort(&mut items, &flags, |i| (i.name.as_str(), &i.meta));
        self.print(&items, flags);
        Ok(())
    }

    /// The entries of directory `dir`, named relative to `strip`.
    fn ls_dir(&self, dir: &str, strip: Option<&str>, flags: LsFlags) -> Result<(), Failed> {
        let entries = self
            .fs
            .read_dir(dir)
            .map_err(|e| fail(format!("Couldn't read directory: {}", e.reason)))?;
        let mut entries = entries;
        if flags.all {
            // The server's `.` and `..` are not passed on by the client: `-a` shows them.
            for (name, path) in [(".", dir.to_owned()), ("..", path_append(dir, ".."))] {
                if let Ok(meta) = self.fs.stat(&path) {
                    entries.push(super::remote::Entry {
                        name: name.to_owned(),
                        longname: String::new(),
                        meta,
                    });
                }
            }
        }
        let mut items: Vec<Item> = entries
            .into_iter()
            .filter(|e| flags.all || !e.name.starts_with('.'))
            .map(|e| Item {
                name: path_strip(&path_append(dir, &e.name), strip),
                meta: e.meta,
                longname: e.longname,
            })
            .collect();
        listing::sort(&mut items, &flags, |i| (i.name.as_str(), &i.meta));
        self.print(&items, flags);
        Ok(())
    }

    /// Prints the items, long or short.
    fn print(&self, items: &[Item], flags: LsFlags) {
        if !flags.long {
            let width = crate::terminal::window_size(std::io::stdin())
                .map(|w| w.cols as usize)
                .ok()
                .filter(|w| *w > 0)
                .unwrap_or(80);
            let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
            print!("{}", listing::columns(&names, width, flags.one_per_line));
            return;
        }
        // Names from the server's longnames, by id (so entries without one, like `.`, get
        // them too); `-n` shows the ids.
        let mut users = std::collections::HashMap::new();
        let mut groups = std::collections::HashMap::new();
        if !flags.numeric {
            for item in items {
                if let (Some((uid, gid)), Some((u, g))) =
                    (item.meta.uid_gid, listing::longname_owner(&item.longname))
                {
                    users.entry(uid).or_insert_with(|| u.to_owned());
                    groups.entry(gid).or_insert_with(|| g.to_owned());
                }
            }
        }
        for item in items {
            let (uid, gid) = item.meta.uid_gid.unwrap_or_default();
            let (user, group) = (users.get(&uid).cloned(), groups.get(&gid).cloned());
            println!(
                "{}",
                listing::long_line(
                    &item.name,
                    &item.meta,
                    user.as_deref(),
                    group.as_deref(),
                    flags.human
                )
            );
        }
    }
}

/// The directory part of an absolute path (`/` for `/x`).
fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rfind('/') {
        Some(0) | None => "/",
        Some(i) => path.get(..i).unwrap_or("/"),
    }
}
