//! `cargo run -p seashell-config --example dump -- [-F file] [-o option]... host`: the
//! resolved configuration in `ssh -G`'s format.

use seashell_config::{CommandLine, Request, SshConfigFiles, StdEnv, resolve_with};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut files = SshConfigFiles::Default;
    let mut cmdline = Vec::new();
    let mut host = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-F" => files = SshConfigFiles::from_flag(&args.next().unwrap_or_default()),
            "-o" => cmdline.push(CommandLine::Option(args.next().unwrap_or_default())),
            _ => host = Some(a),
        }
    }
    let mut req = Request::new(host.unwrap_or_default());
    req.command_line = cmdline;
    match resolve_with(&StdEnv, &req, &files).and_then(|c| {
        c.dump()
            .map_err(|e| seashell_config::ConfigError { messages: vec![e] })
    }) {
        Ok(out) => print!("{out}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(255);
        }
    }
}
