//! Phase timings for profiling: `KUSTODIAN_TIMINGS=1 kustodian check …` prints how long each
//! pipeline stage took to stderr. Off by default, and then free (one relaxed atomic load per mark),
//! so the marks can stay in the hot path and the performance note in `docs/performance.md` can be
//! re-measured by anyone.

// The one place the library writes to stderr: timings go straight out, whoever called.
#![allow(clippy::print_stderr)]

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("KUSTODIAN_TIMINGS").is_some_and(|v| v != "0"))
}

/// A stopwatch that prints the time since its last mark under a stage name.
pub struct Phases {
    last: Option<Instant>,
}

impl Phases {
    pub fn start() -> Phases {
        Phases {
            last: enabled().then(Instant::now),
        }
    }

    /// Ends the only phase, naming it (one line per unit of work on any thread, such as each
    /// directory `kustodian render` prints).
    pub fn done(self, name: &str) {
        if let Some(t) = self.last {
            eprintln!(
                "timing: {name:<24} {:>8.1} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
    }

    /// Ends the current phase, naming it.
    pub fn mark(&mut self, name: &str) {
        if let Some(t) = self.last {
            let now = Instant::now();
            eprintln!(
                "timing: {name:<24} {:>8.1} ms",
                (now - t).as_secs_f64() * 1e3
            );
            self.last = Some(now);
        }
    }
}
