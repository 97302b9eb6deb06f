//! `nova doctor`: what this machine offers the sandbox, and what Nova will do with it.

use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::output::{BOLD, GREEN, RED, YELLOW};
use super::{CommandError, Context, Exit};

/// Check which isolation mechanisms work on this machine.
///
/// Reports user and network namespaces, the Landlock ABI, the process limit and seccomp, then
/// runs a command in the sandbox to prove it works. Exits 3 when the sandbox cannot run: `nova
/// improve` would refuse too (unless given `--unsafe-no-sandbox`).
#[derive(Debug, Args)]
pub struct DoctorArgs {}

#[derive(Debug, Serialize)]
struct Check {
    name: String,
    available: bool,
    required: bool,
    detail: String,
}

#[derive(Debug, Serialize)]
struct Report {
    checks: Vec<Check>,
    /// Whether repository code will run sandboxed.
    sandbox: bool,
    /// What Nova will do, in a sentence.
    plan: String,
}

pub fn run(cx: &Context<'_>, _args: &DoctorArgs) -> Result<Exit, CommandError> {
    let mut checks: Vec<Check> = nova_sandbox::mechanisms()
        .into_iter()
        .map(|mechanism| Check {
            name: mechanism.name.to_owned(),
            available: mechanism.state.is_ok(),
            required: mechanism.required,
            detail: mechanism.state.unwrap_or_else(|why| why),
        })
        .collect();
    let mechanisms_ok = checks.iter().all(|c| c.available || !c.required);
    if mechanisms_ok {
        checks.push(live_check(cx));
    }
    let sandbox = checks.iter().all(|c| c.available || !c.required);
    let plan = if sandbox {
        format!(
            "Nova runs build scripts, proc macros and tests in the sandbox: {}.",
            nova_sandbox::describe(nova_sandbox::Isolation::Sandbox)
        )
    } else {
        let missing: Vec<&str> = checks
            .iter()
            .filter(|c| c.required && !c.available)
            .map(|c| c.name.as_str())
            .collect();
        format!(
            "Nova refuses to run repository code here: {} missing. Enable it, or pass \
             `--unsafe-no-sandbox` to run the repository's code with your full access.",
            missing.join(", ")
        )
    };
    let report = Report {
        checks,
        sandbox,
        plan,
    };
    let exit = if report.sandbox {
        Exit::Success
    } else {
        Exit::Environment
    };
    if cx.printer.json() {
        cx.printer.json_value(&report)?;
        return Ok(exit);
    }
    let p = &cx.printer;
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let mark = match (check.available, check.required) {
            (true, _) => p.paint(GREEN, "ok  "),
            (false, true) => p.paint(RED, "MISSING"),
            (false, false) => p.paint(YELLOW, "warn"),
        };
        p.line(&format!(
            "{mark} {:width$}  {}",
            check.name,
            check.detail,
            width = width
        ))?;
    }
    p.line(&p.paint(BOLD, &report.plan))?;
    Ok(exit)
}

/// Runs `true` in the sandbox: every mechanism together, for real.
fn live_check(cx: &Context<'_>) -> Check {
    let mut spec = nova_sandbox::Spec::new("/bin/sh", cx.env.temp_dir()).args(["-c", "exit 0"]);
    spec.timeout = Duration::from_secs(10);
    let (available, detail) = match nova_sandbox::run(&spec) {
        Ok(outcome) if outcome.success() => (
            true,
            format!(
                "a command ran in the sandbox ({} ms)",
                outcome.elapsed.as_millis()
            ),
        ),
        Ok(outcome) => (
            false,
            format!(
                "a command in the sandbox ended with {:?}: {}",
                outcome.status,
                String::from_utf8_lossy(&outcome.stderr).trim()
            ),
        ),
        Err(error) => (false, error.to_string()),
    };
    Check {
        name: String::from("live check"),
        available,
        required: true,
        detail,
    }
}
