//! Where words go: results to stdout, notes and errors to stderr, colour only when wanted.

use std::io::{self, IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use super::GlobalArgs;
use crate::config::Env;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset
    Auto,
    Always,
    Never,
}

/// Writes results and messages in the style the user asked for.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    color_out: bool,
    color_err: bool,
    quiet: bool,
    verbose: u8,
    json: bool,
}

pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const GREEN: Style = AnsiColor::Green.on_default().bold();
pub const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
pub const RED: Style = AnsiColor::Red.on_default().bold();
pub const CYAN: Style = AnsiColor::Cyan.on_default();
pub const ADDED: Style = AnsiColor::Green.on_default();
pub const REMOVED: Style = AnsiColor::Red.on_default();

impl Printer {
    /// Every problem on its own line, then `ok:` or `failed:` with `summary` and the count: the
    /// report of a `check` or `test` subcommand.
    pub fn problems(&self, problems: &[crate::diag::Problem], summary: &str) -> io::Result<()> {
        for problem in problems {
            self.line(&problem.to_string())?;
        }
        if problems.is_empty() {
            self.line(&format!(
                "{} {summary}, no problems",
                self.paint(GREEN, "ok:")
            ))
        } else {
            self.line(&format!(
                "{} {summary}, {} problem(s)",
                self.paint(RED, "failed:"),
                problems.len()
            ))
        }
    }

    pub fn new(global: &GlobalArgs, env: &Env) -> Self {
        let wants = |terminal: bool| match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !env.no_color(),
        };
        Printer {
            color_out: wants(io::stdout().is_terminal()),
            color_err: wants(io::stderr().is_terminal()),
            quiet: global.quiet,
            verbose: global.verbose,
            json: global.json,
        }
    }

    /// Whether results should be JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// `text` in `style`, for stdout.
    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color_out, style, text)
    }

    /// Whether `--quiet` was given.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// `text` in `style`, for stderr.
    pub fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.color_err, style, text)
    }

    /// Writes `patch` as a unified diff, coloured when stdout takes colour, each hunk header
    /// naming the symbols it changes, then the public items it changes.
    pub fn patch(&self, patch: &crate::edit::Patch) -> io::Result<()> {
        use crate::edit::Line;
        for line in crate::edit::lines(patch) {
            let text = match line {
                Line::FileHeader(text) => self.paint(BOLD, &text),
                Line::HunkHeader { range, symbols } if symbols.is_empty() => {
                    self.paint(CYAN, &range)
                }
                Line::HunkHeader { range, symbols } => format!(
                    "{} {}",
                    self.paint(CYAN, &range),
                    self.paint(DIM, &format!("in {}", symbols.join(", ")))
                ),
                Line::Context(text) => format!(" {text}"),
                Line::Removed(text) => self.paint(REMOVED, &format!("-{text}")),
                Line::Added(text) => self.paint(ADDED, &format!("+{text}")),
            };
            self.line(&text)?;
        }
        let public = crate::edit::public_changes(patch);
        if !public.is_empty() {
            self.line(&self.paint(YELLOW, "Public items changed:"))?;
            for item in public {
                self.line(&format!("  {item}"))?;
            }
        }
        Ok(())
    }

    /// Writes `value` as one line of JSON on stdout (JSON Lines).
    pub fn json_line(&self, value: &impl Serialize) -> io::Result<()> {
        let mut out = io::stdout().lock();
        serde_json::to_writer(&mut out, value)?;
        writeln!(out)?;
        out.flush()
    }

    /// Writes one line of results to stdout.
    pub fn line(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}")
    }

    /// Writes results verbatim to stdout.
    pub fn raw(&self, bytes: &[u8]) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()
    }

    /// Writes `value` as pretty JSON on stdout.
    pub fn json_value(&self, value: &impl Serialize) -> io::Result<()> {
        let mut out = io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value)?;
        writeln!(out)
    }

    /// A note for people, on stderr, unless `--quiet`.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            self.err_line(text);
        }
    }

    /// Detail shown with `--verbose`, on stderr.
    pub fn info(&self, text: &str) {
        if self.verbose > 0 {
            let text = paint(self.color_err, DIM, text);
            self.err_line(&text);
        }
    }

    pub fn warn(&self, text: &str) {
        let label = paint(self.color_err, YELLOW, "warning:");
        self.err_line(&format!("{label} {text}"));
    }

    /// An error and its chain of causes, on stderr: each cause once (many errors already quote
    /// their source in their own message).
    pub fn error(&self, error: &anyhow::Error) {
        let label = paint(self.color_err, RED, "error:");
        self.err_line(&format!("{label} {}", chain(error)));
    }

    fn err_line(&self, text: &str) {
        let mut err = io::stderr().lock();
        // Nowhere left to report a failure to write to stderr.
        let _ = writeln!(err, "{text}");
    }
}

/// An error's message and its causes, `: `-separated, leaving out a cause the text already holds.
fn chain(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn paint(enabled: bool, style: Style, text: &str) -> String {
    if enabled {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot use the archive: {source}")]
    struct Outer {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let quoted = anyhow::Error::new(Outer {
            source: std::io::Error::other("file is not a database"),
        });
        assert_eq!(
            chain(&quoted),
            "cannot use the archive: file is not a database"
        );
        let wrapped = anyhow::Error::new(std::io::Error::other("disk full")).context("cannot save");
        assert_eq!(chain(&wrapped), "cannot save: disk full");
    }
}
