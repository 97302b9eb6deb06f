//! Running the tests: the test step (without the tests the policy skips, and with a hung test
//! killed and named as one test), the base's second run that tells failing tests from flaky ones,
//! and the reruns of tests that fail on a candidate.

use std::collections::{BTreeMap, BTreeSet};

use nova_sandbox::Status;
use serde::{Deserialize, Serialize};

use super::features::FeatureConfig;
use super::libtest::{LastBinary, parse_with_last};
use super::report::{Step, Targets};
use super::{TestOutcome, TestResults, ValidateError, Workspace, step};

/// How tests are run and judged, from the configuration and the run archive.
#[derive(Debug, Clone, Default)]
pub struct TestPolicy {
    /// Tests never run (`[validate] skip`: the repository owner's choice), by libtest name.
    pub skip: Vec<String>,
    /// How many more runs a flaky test gets on a candidate before the candidate is rejected.
    pub flaky_reruns: u32,
    /// Tests earlier runs of this repository saw flaky (`package (target) name`).
    pub known_flaky: BTreeSet<String>,
    /// A run killed at the step's timeout ends the tests there, unfinished, instead of naming
    /// the test that hung and running the others again (`nova bench make`: a defect that hangs
    /// is dropped anyway, and naming it costs a timeout more).
    pub stop_at_hang: bool,
}

/// What the base's two runs showed about its tests that did not simply pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Tests that failed in both runs (or hung): kept out of the acceptance rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failing: BTreeMap<String, Failing>,
    /// Tests whose result differed between the runs, or that earlier runs saw flaky: why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flaky: BTreeMap<String, String>,
    /// Of those, the ones only the archive remembers flaky: these runs saw them stable.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub remembered: BTreeSet<String>,
    /// The tests ran once and all passed: a second run would find a flaky test only by chance,
    /// for the cost of the whole suite. Instead, a test that fails on a candidate and passes
    /// when run again is run again on this tree before the change is said to have made it
    /// flaky.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once: bool,
    /// Of the flaky ones, those found so on this tree while judging a candidate.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub found: BTreeSet<String>,
}

impl Baseline {
    /// The flaky tests this base's own runs saw flaky.
    pub fn seen_flaky(&self) -> impl Iterator<Item = &str> {
        self.flaky
            .keys()
            .filter(|key| !self.remembered.contains(*key))
            .map(String::as_str)
    }
}

/// A test that already fails in the base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failing {
    /// What it printed (cut to 4 KiB).
    pub output: String,
    /// What the sandbox withheld that its error points at, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Withheld>,
}

/// Something a test needs that the sandbox does not give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Withheld {
    Network,
    Home,
    OutsidePath,
}

impl Withheld {
    /// What the test seems to need, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Withheld::Network => "the network, which the sandbox withholds",
            Withheld::Home => "your home directory (the sandbox gives tests an empty one)",
            Withheld::OutsidePath => {
                "a path outside the repository, which the sandbox does not let tests read or write"
            }
        }
    }

    /// Reads a failing test's output for the errors of what the sandbox withholds.
    fn classify(output: &str, home: &str) -> Option<Withheld> {
        const NETWORK: &[&str] = &[
            "Connection refused",
            "Network is unreachable",
            "No route to host",
            "os error 101",
            "os error 111",
            "os error 113",
            "failed to lookup address",
            "Temporary failure in name resolution",
            "Name or service not known",
            "dns error",
            "Could not resolve host",
            "error trying to connect",
        ];
        const OUTSIDE: &[&str] = &[
            "Permission denied",
            "os error 13",
            "Read-only file system",
            "os error 30",
        ];
        if NETWORK.iter().any(|p| output.contains(p)) {
            Some(Withheld::Network)
        } else if !home.is_empty() && output.contains(home) {
            Some(Withheld::Home)
        } else if OUTSIDE.iter().any(|p| output.contains(p)) {
            Some(Withheld::OutsidePath)
        } else {
            None
        }
    }
}

/// How the reruns of one test that failed on a candidate went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rerun {
    /// Runs in all, the first included.
    pub runs: u32,
    /// The most runs it was allowed.
    pub allowed: u32,
    /// The run it passed on, if it did.
    pub passed_on: Option<u32>,
}

/// The steps a run of tests took.
type Steps = Vec<Step>;

/// How many times a test ran, and the run (from 1) that gave the outcome waited for.
type Repeated = (u32, Option<u32>);

/// One test step's results.
pub(super) struct TestRun {
    pub steps: Vec<Step>,
    pub results: TestResults,
    /// Every command ran to completion (a hung test killed and named counts as completed).
    pub ran: bool,
}

/// At most this many hung tests are named and left out in one test command; after that, the
/// command did not run to completion.
const MAX_HUNG: usize = 3;

/// Which packages a test command runs, and how they are built: every workspace member, or one
/// package in one feature configuration (`validate::features`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope<'a> {
    Workspace,
    Features(&'a FeatureConfig),
    /// A feature configuration's libraries and binaries alone, whose other targets do not build
    /// in it (`feature_runs`): their unit tests, no doctests.
    Code(&'a FeatureConfig),
}

impl Scope<'_> {
    /// Cargo's flags for it: `--workspace`, `--manifest-path core/Cargo.toml --features extra`.
    fn flags(self) -> String {
        match self {
            Scope::Workspace => String::from("--workspace"),
            Scope::Features(config) | Scope::Code(config) => {
                let args: Vec<String> = config.args().iter().map(|a| quote(a)).collect();
                args.join(" ")
            }
        }
    }

    /// The flags that select `package` of it alone (to name a test that hung).
    fn package_flags(self, package: &str) -> String {
        match self {
            Scope::Workspace => format!("-p {}", quote(package)),
            Scope::Features(_) | Scope::Code(_) => self.flags(),
        }
    }
}

impl Workspace {
    /// The test commands the targets need in `scope` (extra cargo flags, label): doctests need
    /// a run of their own where the examples do not build, since `--doc` combines with no other
    /// target.
    fn test_runs(&self, scope: Scope, skip: &[String]) -> Vec<(&'static str, String)> {
        // A doctest to leave out needs a run of the doctests apart (see `doc_selection`).
        let apart = skip.iter().any(|name| is_doc_name(name));
        let extras: &[&'static str] = match (scope, self.targets) {
            (Scope::Code(_), _) => &[" --lib --bins"],
            (_, Targets::All | Targets::NoBenches) if !apart => &[""],
            (_, Targets::All | Targets::NoBenches | Targets::Core) => {
                &[" --lib --bins --tests", " --doc"]
            }
        };
        let flags = scope.flags();
        extras
            .iter()
            .map(|extra| (*extra, format!("cargo test {flags}{extra}")))
            .collect()
    }

    /// Runs the tests of `scope`, leaving out `skip` (libtest names). A command killed at the
    /// step's timeout is not a lost run: the test that hung is named, counted as failed, and the
    /// command runs again without it.
    pub(super) fn run_tests(
        &self,
        scope: Scope,
        skip: &[String],
    ) -> Result<TestRun, ValidateError> {
        let mut run = TestRun {
            steps: Vec::new(),
            results: TestResults::default(),
            ran: true,
        };
        let mut skips = skip.to_vec();
        let mut runs = std::collections::VecDeque::from(self.test_runs(scope, &skips));
        while let Some((extra, label)) = runs.pop_front() {
            let mut hung = 0;
            loop {
                let args = match extra {
                    " --doc" => doc_selection(&[], &skips),
                    _ => selection(&[], &skips),
                };
                let command = test_command(scope, extra, &args);
                let outcome = self.run_merged(&command)?;
                run.steps.push(step(&label, &outcome));
                let text = String::from_utf8_lossy(&outcome.stdout);
                let (results, last) = parse_with_last(&text);
                run.results.merge(results);
                if outcome.status == Status::TimedOut
                    && !self.options.tests.stop_at_hang
                    && hung < MAX_HUNG
                    && let Some(last) = last
                {
                    let names = self.name_hung(scope, &last, &skips, &mut run.steps)?;
                    if !names.is_empty() {
                        hung += names.len();
                        let seconds = self.options.step_timeout.as_secs();
                        for name in names {
                            let key = format!("{} {name}", last.prefix);
                            run.results.tests.insert(key.clone(), TestOutcome::Failed);
                            run.results.output.insert(
                                key.clone(),
                                format!(
                                    "did not finish within the step's timeout ({seconds} s): \
                                     killed, and the other tests run again without it"
                                ),
                            );
                            if last.target == "doc" {
                                run.results.doc_names.insert(key.clone(), name.clone());
                            }
                            run.results.hung.insert(key);
                            skips.push(name);
                        }
                        // A doctest to leave out: the doctests run apart from here on, and
                        // only what that run says of them counts (its skip may leave out more
                        // than the one that hung, on every tree alike).
                        if extra.is_empty() && skips.iter().any(|name| is_doc_name(name)) {
                            let results = &mut run.results;
                            results.tests.retain(|key, _| {
                                !results.doc_names.contains_key(key) || results.hung.contains(key)
                            });
                            runs = self.test_runs(scope, &skips).into();
                            break;
                        }
                        continue;
                    }
                }
                // libtest exits 101 when tests fail; anything else (a timeout, a crash) means it
                // did not finish.
                let no_library = extra == " --doc" && text.contains("no library targets found");
                run.ran &=
                    no_library || matches!(outcome.status, Status::Exited(0) | Status::Exited(101));
                break;
            }
        }
        Ok(run)
    }

    /// The tests of `last` (the binary a killed run ended in) that hung: the ones libtest said
    /// were still running after 60 seconds, or else the one a run of that binary alone, on one
    /// test thread (so that libtest names each test as it starts it), is killed in.
    fn name_hung(
        &self,
        scope: Scope,
        last: &LastBinary,
        skip: &[String],
        steps: &mut Vec<Step>,
    ) -> Result<Vec<String>, ValidateError> {
        if !last.slow.is_empty() {
            return Ok(last.slow.clone());
        }
        let Some(target) = target_flag(&last.target) else {
            return Ok(Vec::new());
        };
        if last.package == "?" {
            return Ok(Vec::new());
        }
        let mut skips = skip.to_vec();
        skips.extend(last.finished.iter().cloned());
        let mut args = vec![String::from("--test-threads=1")];
        args.extend(match last.target.as_str() {
            "doc" => doc_selection(&[], &skips),
            _ => selection(&[], &skips),
        });
        let package = scope.package_flags(&last.package);
        let command = format!(
            "cargo test {package} {target} --no-fail-fast --message-format=json --offline \
             --color never -- {} 2>&1",
            args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
        );
        let outcome = self.run_merged(&command)?;
        steps.push(step(
            &format!(
                "cargo test {package} {target} -- --test-threads=1 (to name the test that hung)"
            ),
            &outcome,
        ));
        if outcome.status != Status::TimedOut {
            return Ok(Vec::new());
        }
        let (_, alone) = parse_with_last(&String::from_utf8_lossy(&outcome.stdout));
        Ok(alone.and_then(|a| a.started).into_iter().collect())
    }

    /// The base's second test run, and what the two runs say together: which tests already fail
    /// (both times, or hung), which are flaky (once each way).
    pub(super) fn second_base_run(
        &self,
        first: &TestResults,
        skip: &[String],
    ) -> Result<(TestRun, Baseline), ValidateError> {
        let mut skips = skip.to_vec();
        skips.extend(
            first
                .hung
                .iter()
                .map(|key| first.libtest_name(key).to_owned()),
        );
        let second = self.run_tests(Scope::Workspace, &skips)?;
        let home = self.tmp_dir.join("home");
        let home = home.to_string_lossy();
        let mut baseline = Baseline::default();
        for (key, outcome) in &first.tests {
            let again = second.results.tests.get(key);
            let output = || {
                second
                    .results
                    .output
                    .get(key)
                    .or_else(|| first.output.get(key))
                    .cloned()
                    .unwrap_or_default()
            };
            match (outcome, again) {
                (TestOutcome::Failed, Some(TestOutcome::Passed))
                | (TestOutcome::Passed, Some(TestOutcome::Failed)) => {
                    let (failed, passed) = if *outcome == TestOutcome::Failed {
                        (1, 2)
                    } else {
                        (2, 1)
                    };
                    baseline.flaky.insert(
                        key.clone(),
                        format!(
                            "it failed in run {failed} of the base's two and passed in run {passed}"
                        ),
                    );
                }
                (TestOutcome::Failed, _) => {
                    let output = output();
                    let withheld = Withheld::classify(&output, &home);
                    baseline
                        .failing
                        .insert(key.clone(), Failing { output, withheld });
                }
                _ => {}
            }
        }
        Ok((second, baseline))
    }

    /// Runs each of `tests` (keys of `names`) in `scope` again until it passes, at most
    /// `times[key]` more times, leaving out `skip`.
    pub(super) fn rerun(
        &self,
        scope: Scope,
        tests: &BTreeMap<String, u32>,
        names: &TestResults,
        skip: &[String],
    ) -> Result<(BTreeMap<String, Rerun>, Vec<Step>), ValidateError> {
        let (stopped, steps) =
            self.repeat(scope, tests, names, skip, TestOutcome::Passed, "run again")?;
        let reruns = stopped
            .into_iter()
            .map(|(key, (runs, passed_on))| {
                let rerun = Rerun {
                    // The first run, which failed, counts.
                    runs: runs + 1,
                    allowed: 1 + tests[&key],
                    passed_on: passed_on.map(|run| run + 1),
                };
                (key, rerun)
            })
            .collect();
        Ok((reruns, steps))
    }

    /// Runs each of `tests` on the tree in the worktree (the base, for a candidate's test that
    /// failed and then passed) until it fails, at most `times[key]` times: for each, the run
    /// it failed on, if it did.
    pub(super) fn fails_again(
        &self,
        tests: &BTreeMap<String, u32>,
        names: &TestResults,
        skip: &[String],
    ) -> Result<(BTreeMap<String, Option<u32>>, Steps), ValidateError> {
        let (stopped, steps) = self.repeat(
            Scope::Workspace,
            tests,
            names,
            skip,
            TestOutcome::Failed,
            "on the base, run again",
        )?;
        let failed_on = stopped
            .into_iter()
            .map(|(key, (_, failed_on))| (key, failed_on))
            .collect();
        Ok((failed_on, steps))
    }

    /// Runs each of `tests` until its outcome is `stop`, at most `times[key]` times, leaving out
    /// `skip`: for each, how many runs it had and the run (from 1) that gave `stop`.
    fn repeat(
        &self,
        scope: Scope,
        tests: &BTreeMap<String, u32>,
        names: &TestResults,
        skip: &[String],
        stop: TestOutcome,
        what: &str,
    ) -> Result<(BTreeMap<String, Repeated>, Steps), ValidateError> {
        let mut stopped: BTreeMap<String, Repeated> =
            tests.keys().map(|key| (key.clone(), (0, None))).collect();
        let mut steps = Vec::new();
        loop {
            let pending: Vec<&String> = tests
                .iter()
                .filter(|(key, times)| {
                    let (runs, at) = stopped[*key];
                    at.is_none() && runs < **times
                })
                .map(|(key, _)| key)
                .collect();
            if pending.is_empty() {
                break;
            }
            // Doctests apart: rustdoc's harness cannot be given their names (`doc_selection`),
            // so they run by a word of each, and are told apart by full name in the results.
            let (docs, others): (Vec<&String>, Vec<&String>) = pending
                .iter()
                .partition(|key| names.doc_names.contains_key(key.as_str()));
            let name_of = |keys: &[&String]| -> Vec<String> {
                keys.iter()
                    .map(|key| names.libtest_name(key).to_owned())
                    .collect()
            };
            let mut runs: Vec<(String, String, Vec<String>)> = Vec::new();
            if !others.is_empty() {
                let filters = name_of(&others);
                for (extra, label) in self.test_runs(scope, &[]) {
                    runs.push((
                        test_command(scope, extra, &selection(&filters, skip)),
                        label,
                        filters.clone(),
                    ));
                }
            }
            if !docs.is_empty() {
                let filters = name_of(&docs);
                runs.push((
                    test_command(scope, " --doc", &doc_selection(&filters, skip)),
                    format!("cargo test {} --doc", scope.flags()),
                    filters,
                ));
            }
            let mut results = TestResults::default();
            for (command, label, filters) in runs {
                let outcome = self.run_merged(&command)?;
                steps.push(step(
                    &format!("{label} ({what}: {})", filters.join(", ")),
                    &outcome,
                ));
                results.merge(parse_with_last(&String::from_utf8_lossy(&outcome.stdout)).0);
            }
            for key in pending {
                let (runs, at) = stopped.get_mut(key).expect("every pending test is counted");
                *runs += 1;
                let stops = match names.doc_names.get(key) {
                    // A doctest run alone is numbered alone: find it by its full name.
                    Some(raw) => results
                        .doc_names
                        .iter()
                        .any(|(k, name)| name == raw && results.tests.get(k) == Some(&stop)),
                    None => results.tests.get(key) == Some(&stop),
                };
                if stops {
                    *at = Some(*runs);
                }
            }
        }
        Ok((stopped, steps))
    }
}

/// `cargo test` of `scope` with `extra` target flags, and `args` for libtest.
fn test_command(scope: Scope, extra: &str, args: &[String]) -> String {
    let args = if args.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = args.iter().map(|a| quote(a)).collect();
        format!(" -- {}", quoted.join(" "))
    };
    format!(
        "cargo test {} --no-fail-fast --message-format=json --offline --color never\
         {extra}{args} 2>&1",
        scope.flags()
    )
}

/// libtest's arguments to run only `filters` (all tests when empty) and none of `skip`, by exact
/// name. A doctest's name in `skip` matches no test of these harnesses; in a run that holds the
/// doctests too, rustdoc would split it into words and, with `--exact`, run no doctest at all:
/// such a skip makes the doctests run apart (`test_runs`).
fn selection(filters: &[String], skip: &[String]) -> Vec<String> {
    let mut args: Vec<String> = filters.to_vec();
    for name in skip.iter().filter(|name| !is_doc_name(name)) {
        args.push(String::from("--skip"));
        args.push(name.clone());
    }
    if !args.is_empty() {
        args.push(String::from("--exact"));
    }
    args
}

/// rustdoc's arguments to run `filters` and leave out `skip` (doctests' names). rustdoc splits
/// what cargo hands it at whitespace, so a doctest (`src/lib.rs - Type::f (line 5)`) cannot be
/// named whole, nor matched with `--exact`: each is named by one word of its name
/// (`doc_word`), matched as a part of a name. Filters run a few doctests more, told apart by
/// full name in the results; a skip leaves out the other doctests that share the word too, on
/// every tree alike. Other names in `skip` are no doctest's and are left out.
fn doc_selection(filters: &[String], skip: &[String]) -> Vec<String> {
    let mut args: Vec<String> = filters
        .iter()
        .map(|name| doc_word(name).to_owned())
        .collect();
    for name in skip.iter().filter(|name| is_doc_name(name)) {
        args.push(String::from("--skip"));
        args.push(doc_word(name).to_owned());
    }
    args
}

/// Whether a libtest name is a doctest's: only those hold spaces.
fn is_doc_name(name: &str) -> bool {
    name.contains(char::is_whitespace)
}

/// The word of a doctest's name (`src/lib.rs - Type::f (line 5)`) likely part of the fewest
/// others: its item's path (`Type::f`), or its file when the item has none (crate-level docs) or
/// a name so short that it is part of many (`f`).
fn doc_word(name: &str) -> &str {
    let (file, rest) = name.split_once(" - ").unwrap_or((name, ""));
    let item = rest.split(" (line ").next().unwrap_or("");
    let specific = item.len() >= 4 || item.contains("::");
    match item {
        item if specific && !is_doc_name(item) => item,
        _ => file.split_whitespace().next().unwrap_or(file),
    }
}

/// Cargo's flag selecting one target, from its label in a test's key.
fn target_flag(target: &str) -> Option<String> {
    let (kind, name) = target.split_once(' ').unwrap_or((target, ""));
    match kind {
        "lib" => Some(String::from("--lib")),
        "doc" => Some(String::from("--doc")),
        "bin" | "test" | "bench" | "example" => Some(format!("--{kind} {}", quote(name))),
        _ => None,
    }
}

/// `text` as one word for `sh`.
fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_and_skips_by_exact_name() {
        assert!(selection(&[], &[]).is_empty());
        assert_eq!(
            selection(&[String::from("a::b")], &[String::from("net")]),
            ["a::b", "--skip", "net", "--exact"]
        );
        assert_eq!(
            test_command(
                Scope::Workspace,
                " --doc",
                &doc_selection(&[], &[String::from("src/a b.rs - (line 5)")])
            ),
            "cargo test --workspace --no-fail-fast --message-format=json --offline --color never \
             --doc -- --skip src/a 2>&1"
        );
        assert_eq!(quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn a_feature_configuration_runs_its_package_with_its_features() {
        let config = FeatureConfig {
            package: String::from("core"),
            features: vec![String::from("a"), String::from("b")],
            dir: String::from("crates/core"),
            no_default: false,
            build_only: false,
        };
        let scope = Scope::Features(&config);
        assert_eq!(
            test_command(scope, "", &selection(&[], &[String::from("slow")])),
            "cargo test --manifest-path crates/core/Cargo.toml --features 'a,b' --no-fail-fast \
             --message-format=json --offline --color never -- --skip slow --exact 2>&1"
        );
        assert_eq!(scope.package_flags("core"), scope.flags());
        assert_eq!(Scope::Workspace.package_flags("a b"), "-p 'a b'");
    }

    #[test]
    fn doctests_are_selected_by_a_word_of_their_name() {
        let hung = String::from("src/ext_slice.rs - ext_slice::ByteSlice::find_iter (line 500)");
        let short = String::from("src/lib.rs - f (line 5)");
        let method = String::from("src/lib.rs - A::f (line 9)");
        assert_eq!(doc_word(&method), "A::f");
        assert_eq!(doc_word("src/lib.rs - checks_one (line 18)"), "checks_one");
        let crate_docs = String::from("src/lib.rs - (line 1)");
        assert_eq!(doc_word(&hung), "ext_slice::ByteSlice::find_iter");
        assert_eq!(doc_word(&short), "src/lib.rs");
        assert_eq!(doc_word(&crate_docs), "src/lib.rs");
        let skip = [String::from("tests::net"), hung.clone()];
        // No word with a space for rustdoc, and no `--exact`: it would run no doctest at all.
        assert_eq!(
            doc_selection(std::slice::from_ref(&short), &skip),
            ["src/lib.rs", "--skip", "ext_slice::ByteSlice::find_iter"]
        );
        // The other harnesses keep their exact names, and no doctest's.
        assert_eq!(selection(&[], &skip), ["--skip", "tests::net", "--exact"]);
    }

    #[test]
    fn names_what_the_sandbox_withheld() {
        let home = "/tmp/nova-validate-1/tmp/home";
        for (output, expected) in [
            (
                "called `Result::unwrap()` on an `Err` value: Os { code: 111, kind: \
                 ConnectionRefused, message: \"Connection refused\" }",
                Some(Withheld::Network),
            ),
            (
                "failed to lookup address information: Temporary failure in name resolution",
                Some(Withheld::Network),
            ),
            (
                "No such file or directory: /tmp/nova-validate-1/tmp/home/.config/app.toml",
                Some(Withheld::Home),
            ),
            (
                "Permission denied (os error 13)",
                Some(Withheld::OutsidePath),
            ),
            ("assertion `left == right` failed", None),
        ] {
            assert_eq!(Withheld::classify(output, home), expected, "{output}");
        }
    }

    #[test]
    fn target_flags_from_labels() {
        assert_eq!(target_flag("lib").as_deref(), Some("--lib"));
        assert_eq!(target_flag("test it").as_deref(), Some("--test it"));
        assert_eq!(target_flag("doc").as_deref(), Some("--doc"));
        assert_eq!(target_flag("unittests src/lib.rs"), None);
    }
}
