//! ssh_config parsing and resolution on arbitrary text, for a fixed host, in an in-memory
//! environment: the input up to the first NUL is the `-F` file, the rest a file it may
//! `Include` (`/inc.conf`). Never a panic; the `-G` dump of whatever resolves works too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_config::{MemoryEnv, Request, SshConfigFiles, resolve_with};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (main, inc) = text.split_once('\0').unwrap_or((&text, ""));
    let env = MemoryEnv::default()
        .file("/cfg", main)
        .file("/inc.conf", inc);
    let mut req = Request::new("web.example.com");
    req.remote_command = Some("uptime".into());
    if let Ok(c) = resolve_with(&env, &req, &SshConfigFiles::Only("/cfg".into())) {
        let _ = c.dump();
    }
});
