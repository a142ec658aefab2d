//! `seashell`: an OpenSSH-compatible SSH client (a subset of `ssh`), plus subcommands.
//!
//! ```text
//! seashell [-nqTvV] [-i identity_file] [-l login_name] [-o option] [-p port]
//!          destination [command [argument ...]]
//! seashell serve [--listen ADDR] [--host-key PATH]... ...   (see docs/serve.md)
//! seashell agent [-c | -s] [-Dd] [-a bind_address] [-t life] | -k   (see docs/agent.md)
//! seashell add [-cDdLlqXx] [-t life] [file ...]                      (see docs/agent.md)
//! seashell demo [--bytes N]
//! seashell sftp [-aCfhpqrv] [-b batchfile] [-P port] ... [user@]host[:path]   (see docs/cli.md)
//! seashell cp [-ACpqrv] [-P port] ... source ... target                      (see docs/cli.md)
//! seashell keygen [-t type] [-b bits] [-f file] [-N pass] [-C comment] | -l | -y | -e | -i | -p   (see docs/keys.md)
//! ```
//!
//! The exit status is the remote command's, or 255 if the connection failed or the command
//! was killed by a signal.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod agent;
mod agent_add;
mod agent_client;
mod args;
mod askpass;
mod background;
mod check_host_ip;
mod connect;
mod cp;
mod demo;
mod escape;
mod forward;
mod hosts;
mod identity_certs;
mod keygen;
mod keygen_cert;
mod keywords;
mod log;
mod options;
mod relay;
mod remote;
mod run;
mod serve;
mod session_options;
mod sftp;
mod signals;
mod ssh_config;
mod stdio_forward;
mod terminal;
mod trust_options;
mod tty;
mod tunnels;
mod units;

use args::{Parsed, USAGE};
use seashell_blocking::ExitStatus;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect()
    {
        Ok(v) => v,
        Err(bad) => {
            eprintln!(
                "seashell: argument is not valid UTF-8: {}",
                bad.to_string_lossy()
            );
            return ExitCode::from(255);
        }
    };
    // Subcommands: the first word only (a host called `serve` is reached as `-- serve`).
    match argv.first().map(String::as_str) {
        Some("serve") => return serve::main(argv.get(1..).unwrap_or_default()),
        Some("demo") => return demo::main(argv.get(1..).unwrap_or_default()),
        Some("keygen") => return keygen::main(argv.get(1..).unwrap_or_default()),
        Some("agent") => return agent::main(argv.get(1..).unwrap_or_default()),
        Some("add") => return agent_add::main(argv.get(1..).unwrap_or_default()),
        Some("sftp") => return sftp::main(argv.get(1..).unwrap_or_default()),
        Some("cp") => return cp::main(argv.get(1..).unwrap_or_default()),
        _ => {}
    }
    let mut settings = match args::parse(&argv) {
        Ok(Parsed::Run(s)) => s,
        Ok(Parsed::Version) => {
            eprintln!("Seashell_{}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("seashell: {}", e.message);
            if e.show_usage {
                eprintln!("{USAGE}");
            }
            return ExitCode::from(255);
        }
    };
    // ssh_config: the command line first, then the files (`-F`), first value wins.
    let configured = if settings.dump_config {
        ssh_config::dump(&settings).map(|out| print!("{out}"))
    } else {
        ssh_config::apply(&mut settings)
    };
    if let Err(e) = configured {
        eprintln!("{e}");
        return ExitCode::from(255);
    }
    if settings.dump_config {
        return ExitCode::SUCCESS;
    }
    if let Some(file) = &settings.session.log_file
        && let Err(msg) = log::redirect_to_file(std::path::Path::new(file))
    {
        eprintln!("{msg}");
    }
    log::set_level(settings.session.log_level());
    let log = log::Log::global();
    for note in settings.config.iter().flat_map(|c| &c.ignored) {
        log.debug(note);
    }
    match run::run(&settings) {
        Ok(ExitStatus::Code(c)) => ExitCode::from((c & 0xff) as u8),
        Ok(_) => ExitCode::from(255),
        Err(run::Fatal(msg)) => {
            log.error(&format!("seashell: {msg}"));
            ExitCode::from(255)
        }
    }
}
