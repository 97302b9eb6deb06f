//! The flags `improve` and `apply` share: how candidates are validated.

use std::time::Duration;

use clap::Args;

use super::output::{BOLD, Printer, RED, YELLOW};
use super::{CommandError, Context};
use crate::config::Config;
use crate::validate::{Isolation, Limits, Options, TestPolicy, ValidationReport, Withheld};

/// How the sandbox builds and tests.
#[derive(Debug, Args)]
pub struct ValidationArgs {
    /// The longest any one cargo command may run, in seconds; a test still running then is killed
    /// and counted as failed, and the others run again without it
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    step_timeout: u64,
    /// Refuse a base with any failing or flaky test, instead of keeping those tests out of the
    /// verdicts [default: `validate.require_green`]
    #[arg(long)]
    require_green: bool,
    /// Let builds and tests use the network. Only for code you trust [default:
    /// `validate.allow_network` in your user config; never from a repository's config]
    #[arg(long)]
    allow_network: bool,
    /// Run the repository's build scripts and tests without isolation. Only for code you trust.
    #[arg(long)]
    unsafe_no_sandbox: bool,
}

impl ValidationArgs {
    /// The validation options these flags and `config` give, and whether a green base is required.
    /// Says loudly when the sandbox is off or has the network.
    pub fn options(
        &self,
        cx: &Context<'_>,
        config: &Config,
    ) -> Result<(Options, bool), CommandError> {
        let isolation = isolation(cx, self.unsafe_no_sandbox)?;
        let settings = &config.validate;
        let network = self.allow_network || settings.allow_network.value;
        if network && isolation != Isolation::None {
            let why = if self.allow_network {
                String::from("--allow-network")
            } else {
                format!(
                    "`validate.allow_network` in {}",
                    settings.allow_network.source
                )
            };
            cx.printer.warn(&format!(
                "{why}: the repository's build scripts and tests run with your network"
            ));
        }
        let options = Options {
            isolation,
            env: cx.env.sandbox_vars(),
            step_timeout: Duration::from_secs(self.step_timeout),
            temp_root: cx.env.temp_dir(),
            toolchain: cx.env.toolchain_dirs(),
            limits: Limits::default(),
            network,
            observer: None,
            tests: TestPolicy {
                skip: settings.skip.value.clone(),
                flaky_reruns: settings.flaky_reruns.value,
                known_flaky: Default::default(),
                stop_at_hang: false,
            },
        };
        Ok((options, self.require_green || settings.require_green.value))
    }
}

/// The isolation repository code will run under: the sandbox, which must work here, or none at
/// all when the user asked for that, with a warning.
pub fn isolation(cx: &Context<'_>, unsafe_no_sandbox: bool) -> Result<Isolation, CommandError> {
    if unsafe_no_sandbox {
        cx.printer.warn(
            "--unsafe-no-sandbox: the repository's build scripts and tests run with your full access",
        );
        return Ok(Isolation::None);
    }
    crate::validate::probe_sandbox().map_err(CommandError::environment)?;
    Ok(Isolation::Sandbox)
}

/// What a base's report says about its tests that did not simply pass, for the top of a report:
/// the already-failing tests with what they printed and how to handle one that needs what the
/// sandbox withholds, the flaky tests, and the tests `[validate] skip` left out.
pub fn print_baseline(p: &Printer, base: &ValidationReport) -> std::io::Result<()> {
    let failing = &base.baseline.failing;
    if !failing.is_empty() {
        p.line(&p.paint(
            BOLD,
            &format!(
                "Already failing in the base ({}): kept out of the verdicts; a change may fix {} \
                 but not remove {}.",
                count(failing.len()),
                them(failing.len()),
                them(failing.len()),
            ),
        ))?;
        for (test, failure) in failing {
            p.line(&format!("  {}", p.paint(RED, test)))?;
            for line in failure
                .output
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(6)
            {
                p.line(&format!("      {line}"))?;
            }
            if let Some(withheld) = failure.withheld {
                let name = base.tests.libtest_name(test);
                p.line(&format!(
                    "    It seems to need {}. If it does, skip it with \
                     `[validate] skip = [{name:?}]` in nova.toml (printed on every run){}.",
                    withheld.describe(),
                    if withheld == Withheld::Network {
                        ", or, if you trust this code with your network, pass `--allow-network`"
                    } else {
                        ""
                    }
                ))?;
            }
        }
    }
    let flaky = &base.baseline.flaky;
    if !flaky.is_empty() {
        p.line(&p.paint(
            BOLD,
            &format!(
                "Flaky in the base ({}): run again, up to `validate.flaky_reruns` more times, \
                 before a change is rejected for {}.",
                count(flaky.len()),
                them(flaky.len()),
            ),
        ))?;
        for (test, why) in flaky {
            p.line(&format!("  {}: {why}", p.paint(YELLOW, test)))?;
        }
    }
    if !base.skipped.is_empty() {
        p.line(&format!(
            "{} {} (the repository's `[validate] skip`: never run, never judged)",
            p.paint(BOLD, "Skipped:"),
            base.skipped.join(", ")
        ))?;
    }
    Ok(())
}

fn count(n: usize) -> String {
    if n == 1 {
        String::from("1 test")
    } else {
        format!("{n} tests")
    }
}

fn them(n: usize) -> &'static str {
    if n == 1 { "it" } else { "them" }
}
