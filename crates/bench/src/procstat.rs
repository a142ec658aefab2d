//! CPU time of child processes from `/proc`, and waiting for one without reaping it (so its
//! times, and those of the children it reaped, can still be read).

use std::io;
use std::process::Child;
use std::time::{Duration, Instant};

/// `/proc` reports CPU times in USER_HZ, 100 per second on Linux.
const USER_HZ: f64 = 100.0;

/// CPU seconds (user + system) process `pid` has used so far; with `children`, plus those
/// of the children it has waited for (`cutime`, `cstime`).
pub fn cpu_seconds(pid: u32, children: bool) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .ok_or_else(|| io::Error::other("bad /proc stat"))?
        .1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> io::Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| io::Error::other("short /proc stat"))
    };
    let mut ticks = field(11)? + field(12)?;
    if children {
        ticks += field(13)? + field(14)?;
    }
    Ok(ticks / USER_HZ)
}

/// The children process `pid` has not waited for yet (from `/proc/PID/task/PID/children`).
pub fn child_count(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|s| s.split_whitespace().count())
        .unwrap_or(0)
}

/// Waits until process `pid` has no children left (each ended and was waited for, so its
/// CPU time is in `pid`'s), or `limit` passes.
pub fn wait_children_reaped(pid: u32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while child_count(pid) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `child` exits, without reaping it; `Ok(false)` if `limit` passed first.
pub fn wait_exited(child: &Child, limit: Duration) -> io::Result<bool> {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let pid = Pid::from_child(child);
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
    let deadline = Instant::now() + limit;
    loop {
        if waitid(WaitId::Pid(pid), options)?.is_some() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_child_is_timed_before_it_is_reaped() {
        // A shell that burns some CPU in a child it waits for, then exits.
        let mut child = Command::new("sh")
            .args([
                "-c",
                "sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'",
            ])
            .spawn()
            .unwrap();
        assert!(wait_exited(&child, Duration::from_secs(30)).unwrap());
        let cpu = cpu_seconds(child.id(), true).unwrap();
        assert!(child.wait().unwrap().success());
        assert!(cpu >= 0.0);
        assert!(cpu_seconds(child.id(), true).is_err(), "reaped");
    }
}
