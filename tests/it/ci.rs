//! `nova ci`: the review job's exit codes and job summary, and the improve job end to end (a
//! review branch pushed to a real remote, its pull request opened through a scripted GitHub API
//! on 127.0.0.1); the forge client's calls when a pull request is open already, and the API's
//! errors.

use serde_json::json;

use crate::common::TestEnv;
use crate::improve::fixture;
use crate::model_server::{ModelServer, Reply};

const TOKEN: &str = "forge-token-123";

#[test]
fn the_review_job_fails_on_findings_at_its_threshold_and_writes_the_summary() {
    let mut env = TestEnv::new();
    let repo = env.repo_with(
        "debugging",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"debugging\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            (
                "src/lib.rs",
                "/// Doubles.\npub fn double(x: u32) -> u32 {\n    dbg!(x) * 2\n}\n",
            ),
        ],
    );
    let summary = env.root().join("summary.md");
    env.set_var("GITHUB_STEP_SUMMARY", &summary.display().to_string());

    let failing = env.nova_in(&repo, ["ci", "review"]);
    assert_eq!(failing.code, 1, "{}", failing.both());
    assert!(failing.stdout.contains("dbg-macro"), "{}", failing.both());
    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(written.contains("## Nova review: failed"), "{written}");
    assert!(written.contains("dbg-macro"), "{written}");

    let passing = env.nova_in(&repo, ["ci", "review", "--fail-on", "error"]);
    assert_eq!(passing.code, 0, "{}", passing.both());
    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(written.contains("## Nova review: passed"), "{written}");
}

#[test]
fn the_improve_job_pushes_its_branch_and_opens_a_pull_request() {
    let mut env = TestEnv::new();
    let repo = fixture(&env, "ci-improve", &[]);
    let remote = env.root().join("remote.git");
    git2::Repository::init_bare(&remote).expect("bare remote");
    let git = git2::Repository::open(&repo).expect("open");
    git.remote("origin", &remote.display().to_string())
        .expect("add the remote");
    let into = git
        .head()
        .expect("head")
        .shorthand()
        .expect("a branch")
        .to_owned();

    let server = ModelServer::start(vec![
        Reply::json(&json!([])),
        Reply::status(
            201,
            &json!({ "number": 7, "html_url": "https://github.com/octo/fixture/pull/7" })
                .to_string(),
        ),
    ]);
    let summary = env.root().join("summary.md");
    env.set_var("GITHUB_STEP_SUMMARY", &summary.display().to_string());
    env.set_var("GITHUB_TOKEN", TOKEN);
    env.set_var("GITHUB_REPOSITORY", "octo/fixture");
    env.set_var("GITHUB_API_URL", &server.url());

    let run = env.nova_in(&repo, ["ci", "improve", "--max-minutes", "30"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("Pull request #7 opened"),
        "{}",
        run.both()
    );

    // The branch is on the remote, at the tip Nova committed.
    let branch = crate::common::branches(&repo)
        .into_iter()
        .find(|b| b.starts_with("nova/improve/"))
        .expect("a review branch");
    let local = git
        .find_branch(&branch, git2::BranchType::Local)
        .expect("local branch")
        .get()
        .target();
    let pushed = git2::Repository::open(&remote)
        .expect("open remote")
        .find_reference(&format!("refs/heads/{branch}"))
        .expect("the branch was pushed")
        .target();
    assert_eq!(local, pushed);

    let received = server.received();
    assert_eq!(received.len(), 2, "{received:#?}");
    let list = &received[0];
    assert_eq!(list.method, "GET");
    assert!(
        list.path.starts_with("/repos/octo/fixture/pulls?"),
        "{}",
        list.path
    );
    assert!(list.path.contains("state=open"), "{}", list.path);
    let head = format!("head=octo%3A{}", branch.replace('/', "%2F"));
    assert!(list.path.contains(&head), "{} lacks {head}", list.path);
    for request in &received {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            request.header("accept"),
            Some("application/vnd.github+json")
        );
    }
    let open = &received[1];
    assert_eq!(open.method, "POST");
    assert_eq!(open.path, "/repos/octo/fixture/pulls");
    assert_eq!(open.body["head"], branch.as_str());
    assert_eq!(open.body["base"], into.as_str());
    let title = open.body["title"].as_str().expect("a title");
    assert!(title.starts_with("Nova: "), "{title}");
    let body = open.body["body"].as_str().expect("a body");
    assert!(body.contains(&format!("on `{branch}`")), "{body}");

    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(written.contains("## Nova improve"), "{written}");
    assert!(
        written.contains("Pull request [#7](https://github.com/octo/fixture/pull/7) opened"),
        "{written}"
    );
    // The token appears nowhere in what Nova printed.
    assert!(!run.both().contains(TOKEN));
    server.stop();
}

fn propose(server: &ModelServer) -> Result<nova::forge::Proposed, nova::forge::ForgeError> {
    let github = nova::forge::GitHub::new(&server.url(), "octo/hello", TOKEN).expect("client");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(github.propose("nova/improve/1", "main", "Nova: 2 improvements", "body"))
}

#[test]
fn an_open_pull_request_is_updated_not_duplicated() {
    let server = ModelServer::start(vec![
        Reply::json(&json!([{ "number": 3, "html_url": "https://github.com/octo/hello/pull/3" }])),
        Reply::json(&json!({ "number": 3, "html_url": "https://github.com/octo/hello/pull/3" })),
    ]);
    let proposed = propose(&server).expect("updated");
    assert!(
        matches!(&proposed, nova::forge::Proposed::Updated(pr) if pr.number == 3),
        "{proposed:?}"
    );
    let received = server.received();
    assert_eq!(received.len(), 2, "no second pull request: {received:#?}");
    assert_eq!(received[1].method, "PATCH");
    assert_eq!(received[1].path, "/repos/octo/hello/pulls/3");
    assert_eq!(
        received[1].body,
        json!({ "title": "Nova: 2 improvements", "body": "body" })
    );
    server.stop();
}

#[test]
fn the_apis_errors_are_reported_with_its_message() {
    let server = ModelServer::start(vec![
        Reply::json(&json!([])),
        Reply::status(
            422,
            &json!({
                "message": "Validation Failed",
                "errors": [{ "message": "No commits between main and nova/improve/1" }]
            })
            .to_string(),
        ),
    ]);
    let error = propose(&server).expect_err("refused").to_string();
    assert!(error.contains("(422)"), "{error}");
    assert!(
        error.contains("Validation Failed: No commits between main and nova/improve/1"),
        "{error}"
    );
    server.stop();

    let server = ModelServer::start(vec![Reply::status(401, r#"{"message":"Bad credentials"}"#)]);
    let error = propose(&server).expect_err("refused").to_string();
    assert!(error.contains("(401): Bad credentials"), "{error}");
    server.stop();
}

#[test]
fn an_improve_job_that_cannot_push_fails_and_says_so_in_the_summary() {
    let mut env = TestEnv::new();
    let repo = fixture(&env, "ci-no-remote", &[]);
    let summary = env.root().join("summary.md");
    env.set_var("GITHUB_STEP_SUMMARY", &summary.display().to_string());

    // No such remote: said before any work, which would be lost.
    let run = env.nova_in(&repo, ["ci", "improve"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stderr
            .contains("there is no remote `origin` to push the review branch to")
            && run.stderr.contains("`--no-push`"),
        "{}",
        run.both()
    );
    assert!(
        !run.stderr.contains("review:"),
        "nothing was reviewed: {}",
        run.both()
    );
    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(written.contains("## Nova improve: not run"), "{written}");
    assert!(
        crate::common::branches(&repo)
            .iter()
            .all(|b| !b.starts_with("nova/"))
    );

    // A remote that refuses the push: the job fails after the work, which is kept on the local
    // review branch, and the summary says it was not published.
    let remote = env.root().join("not-a-repository");
    std::fs::create_dir_all(&remote).expect("dir");
    git2::Repository::open(&repo)
        .expect("repo")
        .remote("origin", &remote.display().to_string())
        .expect("a remote");
    let run = env.nova_in(&repo, ["ci", "improve"]);
    assert_eq!(run.code, 1, "{}", run.both());
    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(written.contains("**Not published:**"), "{written}");
    assert!(
        crate::common::branches(&repo)
            .iter()
            .any(|b| b.starts_with("nova/improve/")),
        "{}",
        run.both()
    );

    // Without pushing, the same job succeeds and opens nothing.
    let quiet = env.nova_in(&repo, ["ci", "improve", "--no-push"]);
    assert_eq!(quiet.code, 0, "{}", quiet.both());

    // The run's report, for people: Markdown and one static page, each with its timeline and
    // every candidate's verdict and diff.
    let markdown = env.nova_in(&repo, ["runs", "show", "--markdown"]);
    assert_eq!(markdown.code, 0, "{}", markdown.both());
    assert!(
        markdown.stdout.contains("## Timeline"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown.stdout.contains("base proved, tree reviewed"),
        "{}",
        markdown.stdout
    );
    assert!(markdown.stdout.contains(": accepted") || markdown.stdout.contains("accepted:"));
    assert!(markdown.stdout.contains("```diff"), "{}", markdown.stdout);
    let page = env.nova_in(&repo, ["runs", "show", "--html"]);
    assert_eq!(page.code, 0, "{}", page.both());
    assert!(
        page.stdout.starts_with("<!DOCTYPE html>"),
        "{}",
        page.stdout
    );
    assert!(
        page.stdout.contains("class=\"timeline\""),
        "{}",
        page.stdout
    );
    assert!(
        page.stdout.contains("class=\"verdict accepted\""),
        "{}",
        page.stdout
    );
}
