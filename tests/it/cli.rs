//! The command line as a whole: help, version, usage errors, completions, colour.

use crate::common::TestEnv;

#[test]
fn help_describes_the_tool() {
    let env = TestEnv::new();
    let run = env.nova(["--help"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn short_help_lists_commands() {
    let env = TestEnv::new();
    insta::assert_snapshot!(env.nova(["-h"]).stdout);
}

#[test]
fn subcommand_help() {
    let env = TestEnv::new();
    insta::assert_snapshot!("agents_help", env.nova(["agents", "--help"]).stdout);
    insta::assert_snapshot!(
        "agents_check_help",
        env.nova(["agents", "check", "--help"]).stdout
    );
    insta::assert_snapshot!("config_help", env.nova(["config", "--help"]).stdout);
    insta::assert_snapshot!("init_help", env.nova(["init", "--help"]).stdout);
}

#[test]
fn version_is_the_crate_version() {
    let env = TestEnv::new();
    let run = env.nova(["--version"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, format!("nova {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    let run = env.nova(["agnets", "list"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unrecognized subcommand 'agnets'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("similar subcommand") && run.stderr.contains("'agents'"),
        "{}",
        run.stderr
    );
    assert_eq!(env.nova(["--color", "sometimes", "agents", "list"]).code, 2);
    assert_eq!(env.nova(["agents", "list", "-q", "-v"]).code, 2);
}

#[test]
fn completions_for_each_shell() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = env.nova(["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains("agents"),
            "{shell} completes subcommands"
        );
    }
    assert!(
        env.nova(["completions", "bash"])
            .stdout
            .contains("--api-key-env")
    );
    assert_eq!(env.nova(["completions", "tcsh"]).code, 2);
}

#[test]
fn colour_only_when_asked() {
    let mut env = TestEnv::new();
    let plain = env.nova(["agents", "check"]);
    assert!(
        !plain.stdout.contains('\u{1b}'),
        "not a terminal: no colour"
    );
    let always = env.nova(["--color", "always", "agents", "check"]);
    assert!(always.stdout.contains("\u{1b}["), "{:?}", always.stdout);
    env.set_var("NO_COLOR", "1");
    let auto = env.nova(["agents", "check"]);
    assert!(!auto.stdout.contains('\u{1b}'));
    assert_eq!(auto.stdout, plain.stdout);
}

#[test]
fn doctor_reports_each_mechanism_and_proves_the_sandbox_runs() {
    let env = TestEnv::new();
    let run = env.nova(["--json", "doctor"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|check| check["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "user namespaces",
            "network namespaces",
            "Landlock",
            "Landlock TCP rules",
            "process limit",
            "seccomp",
            "live check"
        ]
    );
    assert_eq!(report["sandbox"], true);
    assert!(
        report["plan"]
            .as_str()
            .expect("plan")
            .contains("Landlock ABI"),
        "{}",
        run.stdout
    );

    let text = env.nova(["doctor"]);
    assert_eq!(text.code, 0, "{}", text.both());
    assert!(text.stdout.contains("live check"), "{}", text.stdout);
}
