//! User and group names from `/etc/passwd` and `/etc/group` (read once, bounded), for `ls -l`
//! lines and `users-groups-by-id@openssh.com`.

use std::collections::HashMap;

/// Most names kept from each file.
const MAX_NAMES: usize = 65_536;
/// Largest file read.
const MAX_FILE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub(crate) struct NameCache {
    users: Option<HashMap<u32, Vec<u8>>>,
    groups: Option<HashMap<u32, Vec<u8>>>,
}

/// `name:x:id:...` lines: the first two fields that matter are 0 and 2.
fn parse(text: &[u8]) -> HashMap<u32, Vec<u8>> {
    let mut map = HashMap::new();
    for line in text.split(|&b| b == b'\n') {
        if map.len() >= MAX_NAMES {
            break;
        }
        let mut fields = line.split(|&b| b == b':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let Some(id) = std::str::from_utf8(id)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if !name.is_empty() && !name.starts_with(b"#") {
            map.entry(id).or_insert_with(|| name.to_vec());
        }
    }
    map
}

fn load(path: &str) -> HashMap<u32, Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_FILE).read_to_end(&mut buf));
    match read {
        Ok(_) => parse(&buf),
        Err(_) => HashMap::new(),
    }
}

impl NameCache {
    pub(crate) fn user(&mut self, uid: u32) -> Option<Vec<u8>> {
        self.users
            .get_or_insert_with(|| load("/etc/passwd"))
            .get(&uid)
            .cloned()
    }

    pub(crate) fn group(&mut self, gid: u32) -> Option<Vec<u8>> {
        self.groups
            .get_or_insert_with(|| load("/etc/group"))
            .get(&gid)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses() {
        let m = super::parse(b"root:x:0:0:root:/root:/bin/sh\n#c:x:5\nbad\nu:x:1000:1000::/h:/s");
        assert_eq!(m.get(&0).map(Vec::as_slice), Some(&b"root"[..]));
        assert_eq!(m.get(&1000).map(Vec::as_slice), Some(&b"u"[..]));
        assert_eq!(m.len(), 2);
    }
}
