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
        let mut items: Vec<Item> = found
            .into_iter()
            .map(|(p, meta)| {
                let shown = path_strip(&p, strip.as_deref());
                Item {
                    name: if flags.long {
                        shown
                    } else {
                        marked(&shown, meta.is_dir())
                    },
                    meta,
                    longname: String::new(),
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
        let names = if flags.numeric {
            None
        } else {
            let uids: Vec<u32> = items
                .iter()
                .filter_map(|i| i.meta.uid_gid)
                .map(|u| u.0)
                .collect();
            let gids: Vec<u32> = items
                .iter()
                .filter_map(|i| i.meta.uid_gid)
                .map(|u| u.1)
                .collect();
            self.fs.names(&uids, &gids).map(|(u, g)| {
                let pair = |ids: &[u32], names: Vec<String>| -> Vec<(u32, String)> {
                    ids.iter().copied().zip(names).collect()
                };
                (pair(&uids, u), pair(&gids, g))
            })
        };
        for item in items {
            let (uid, gid) = item.meta.uid_gid.unwrap_or_default();
            let lookup = |list: &[(u32, String)], id: u32| {
                list.iter()
                    .find(|(i, n)| *i == id && !n.is_empty())
                    .map(|(_, n)| n.clone())
            };
            let (user, group) = match &names {
                _ if flags.numeric => (None, None),
                Some((u, g)) => (lookup(u, uid), lookup(g, gid)),
                None => match listing::longname_owner(&item.longname) {
                    Some((u, g)) => (Some(u.to_owned()), Some(g.to_owned())),
                    None => (None, None),
                },
            };
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
