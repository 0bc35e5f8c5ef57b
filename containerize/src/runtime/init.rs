//! The init a container needs when the app is its first process, done as tini does it.
//!
//! As PID 1 the kernel delivers only the signals a process handles, and every orphaned process
//! in the container becomes its child. So PID 1 runs the app again as its own child, with the
//! same arguments and environment, and then only waits: it passes each signal it is sent on to
//! the app, reaps every child that ends, and exits with the app's status (128 + the signal if a
//! signal ended it). Orphans are reaped only once their parent has died, so the app's own
//! children are never taken from it: it waits for them as anywhere else.
//!
//! The app learns the image's stop signal from the variable the plan sets; unless it handles
//! signals itself (`signals = "app"`) it exits on that signal with 128 + its number, whatever
//! the signal's default action (SIGQUIT would dump core, SIGWINCH would be ignored).

use super::Signals;
use rustix::process::{Pid, Signal, WaitOptions};
use signal_hook::consts::{FORBIDDEN, SIGCHLD, SIGINT, SIGTERM};
use std::ffi::c_int;
use std::os::unix::process::CommandExt;

/// A signal Docker can name, as this platform numbers it.
fn named(name: &str) -> Option<Signal> {
    Some(match name {
        "SIGHUP" => Signal::HUP,
        "SIGINT" => Signal::INT,
        "SIGQUIT" => Signal::QUIT,
        "SIGILL" => Signal::ILL,
        "SIGTRAP" => Signal::TRAP,
        "SIGABRT" => Signal::ABORT,
        "SIGBUS" => Signal::BUS,
        "SIGFPE" => Signal::FPE,
        "SIGKILL" => Signal::KILL,
        "SIGUSR1" => Signal::USR1,
        "SIGSEGV" => Signal::SEGV,
        "SIGUSR2" => Signal::USR2,
        "SIGPIPE" => Signal::PIPE,
        "SIGALRM" => Signal::ALARM,
        "SIGTERM" => Signal::TERM,
        // Not on MIPS and SPARC, where Docker does not name it either.
        #[cfg(not(any(
            target_arch = "mips",
            target_arch = "mips32r6",
            target_arch = "mips64",
            target_arch = "mips64r6",
            target_arch = "sparc",
            target_arch = "sparc64"
        )))]
        "SIGSTKFLT" => Signal::STKFLT,
        "SIGCHLD" => Signal::CHILD,
        "SIGCONT" => Signal::CONT,
        "SIGSTOP" => Signal::STOP,
        "SIGTSTP" => Signal::TSTP,
        "SIGTTIN" => Signal::TTIN,
        "SIGTTOU" => Signal::TTOU,
        "SIGURG" => Signal::URG,
        "SIGXCPU" => Signal::XCPU,
        "SIGXFSZ" => Signal::XFSZ,
        "SIGVTALRM" => Signal::VTALARM,
        "SIGPROF" => Signal::PROF,
        "SIGWINCH" => Signal::WINCH,
        "SIGIO" => Signal::IO,
        "SIGPWR" => Signal::POWER,
        "SIGSYS" => Signal::SYS,
        _ => return None,
    })
}

/// What PID 1 passes on: what tini does, every signal but those the kernel raises for a fault
/// of PID 1's own (SIGSEGV, SIGBUS, ...), those a terminal sends about PID 1's own reads and
/// writes (SIGTTIN, SIGTTOU), and SIGSTKFLT, which not every platform has.
const FORWARDED: [Signal; 18] = [
    Signal::HUP,
    Signal::INT,
    Signal::QUIT,
    Signal::USR1,
    Signal::USR2,
    Signal::PIPE,
    Signal::ALARM,
    Signal::TERM,
    Signal::CONT,
    Signal::TSTP,
    Signal::URG,
    Signal::XCPU,
    Signal::XFSZ,
    Signal::VTALARM,
    Signal::PROF,
    Signal::WINCH,
    Signal::IO,
    Signal::POWER,
];

/// Becomes the init as PID 1, and otherwise (in the app) sets up the stop signal, which the
/// variable `stop_signal_variable` names.
pub(super) fn start(signals: Signals, stop_signal_variable: &str) {
    let stop = std::env::var(stop_signal_variable).ok().and_then(|name| number(&name));
    if std::process::id() == 1 {
        supervise(stop);
        // The app could not be started as a child: it runs here, ending on the signals
        // `docker stop` and Ctrl-C send, which PID 1 would otherwise not receive at all.
        if signals == Signals::Exit {
            exit_on([SIGTERM, SIGINT].into_iter().chain(stop));
        }
    } else if signals == Signals::Exit {
        exit_on(stop);
    }
}

/// The number of a stop signal as the plan writes it: `SIGQUIT`, `SIGRTMIN+3` or `3`.
fn number(signal: &str) -> Option<c_int> {
    if let Ok(number) = signal.parse() {
        return Some(number);
    }
    // Docker's numbering of the real-time signals (moby's `signal_linux.go`).
    let offset = |rest: &str| if rest.is_empty() { Some(0) } else { rest.get(1..)?.parse::<c_int>().ok() };
    if let Some(rest) = signal.strip_prefix("SIGRTMIN") {
        return offset(rest).map(|n| 34 + n);
    }
    if let Some(rest) = signal.strip_prefix("SIGRTMAX") {
        return offset(rest).map(|n| 64 - n);
    }
    named(signal).map(Signal::as_raw)
}

/// Exits with 128 + the signal on the first of `signals` (those that can be caught).
fn exit_on(signals: impl IntoIterator<Item = c_int>) {
    let signals: Vec<c_int> = signals.into_iter().filter(|s| !FORBIDDEN.contains(s)).collect();
    if signals.is_empty() {
        return;
    }
    let Ok(mut incoming) = signal_hook::iterator::Signals::new(signals) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = incoming.forever().next() {
            std::process::exit(128 + signal);
        }
    });
}

/// Runs the app as a child and exits with its status; returns only if it can't be started.
fn supervise(stop: Option<c_int>) {
    let Ok(program) = std::env::current_exe() else {
        return;
    };
    let mut caught: Vec<c_int> = FORWARDED.iter().map(|s| s.as_raw()).chain([SIGCHLD]).collect();
    caught.extend(stop.filter(|s| !caught.contains(s) && !FORBIDDEN.contains(s)));
    // Before the child exists, so that no SIGCHLD is missed.
    let Ok(mut incoming) = signal_hook::iterator::Signals::new(&caught) else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(program);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    // Its own process group, given the terminal if there is one: a key such as Ctrl-C then
    // reaches the app once, from the terminal, and not a second time through PID 1.
    let Ok(child) = command.args(args).process_group(0).spawn() else {
        return;
    };
    let app = Pid::from_child(&child);
    let stdin = std::io::stdin();
    if rustix::termios::isatty(&stdin) && rustix::termios::tcsetpgrp(&stdin, app).is_ok() {
        // Had the app read the terminal before it was given it, it was stopped for that.
        let _ = rustix::process::kill_process_group(app, Signal::CONT);
    }
    for signal in incoming.forever() {
        if signal == SIGCHLD {
            // Signals of one kind coalesce: reap every child that has ended, orphans included.
            while let Ok(Some((pid, status))) = rustix::process::wait(WaitOptions::NOHANG) {
                if pid == app {
                    let by_signal = status.terminating_signal().map(|s| 128 + s);
                    std::process::exit(status.exit_status().or(by_signal).unwrap_or(1));
                }
            }
        } else if let Some(named) = Signal::from_named_raw(signal) {
            let _ = rustix::process::kill_process(app, named);
        } else {
            // A real-time stop signal, which can't be passed on safely: end the container now,
            // as `docker stop` would after its grace period (the kernel ends every process of
            // the container once PID 1 exits).
            std::process::exit(128 + signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_signals_by_name_and_number() {
        assert_eq!(number("SIGQUIT"), Some(3));
        assert_eq!(number("SIGHUP"), Some(1));
        assert_eq!(number("SIGPWR"), Some(30));
        assert_eq!(number("10"), Some(10));
        assert_eq!(number("SIGRTMIN"), Some(34));
        assert_eq!(number("SIGRTMIN+3"), Some(37));
        assert_eq!(number("SIGRTMAX-1"), Some(63));
        assert_eq!(number("SIGNOPE"), None);
    }
}
