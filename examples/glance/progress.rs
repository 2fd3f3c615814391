//! `--progress`: a one-line bar on stderr, redrawn in place.

use std::io::{self, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn at most (the last state is always drawn).
const REDRAW: Duration = Duration::from_millis(100);
const WIDTH: u64 = 30;

/// A progress bar; does nothing when disabled.
pub struct Bar {
    enabled: bool,
    label: &'static str,
    done: u64,
    total: Option<u64>,
    drawn: Option<Instant>,
}

impl Bar {
    pub fn new(enabled: bool, label: &'static str, total: Option<u64>) -> Bar {
        Bar {
            enabled,
            label,
            done: 0,
            total,
            drawn: None,
        }
    }

    /// Records progress; redraws when enough time has passed.
    pub fn update(&mut self, done: u64, total: Option<u64>) {
        self.done = done;
        if total.is_some() {
            self.total = total;
        }
        if self.drawn.is_none_or(|t| t.elapsed() >= REDRAW) {
            self.draw();
        }
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self) {
        if self.enabled && self.drawn.is_some() {
            self.draw();
            eprintln!();
            self.drawn = None;
        }
    }

    fn draw(&mut self) {
        if !self.enabled {
            return;
        }
        self.drawn = Some(Instant::now());
        let line = match self.total {
            Some(total) if total > 0 => {
                let done = self.done.min(total);
                let filled = done * WIDTH / total;
                format!(
                    "{} [{}{}] {:3}% {} / {}",
                    self.label,
                    "#".repeat(filled as usize),
                    "-".repeat((WIDTH - filled) as usize),
                    done * 100 / total,
                    human(done),
                    human(total)
                )
            }
            _ => format!("{} {}", self.label, human(self.done)),
        };
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        // An error cut the transfer short: end the bar's line before the message.
        if self.enabled && self.drawn.is_some() {
            eprintln!();
        }
    }
}

/// Bytes with a binary unit: `512 B`, `1.5 MiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
