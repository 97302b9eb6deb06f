//! Every agent's prompt carries the `AGENTS.md` nearest up from the file it works on: the
//! repository's own at its root, or one deeper in the tree.

use crate::act::{ask, setup};
use crate::common::write;
use crate::model_server::{ModelServer, Turn};

#[test]
fn the_nearest_agents_md_goes_into_the_prompt() {
    let (env, repo) = setup();
    write(&repo, "AGENTS.md", "Root rule: say ROOT-RULE-7.\n");
    write(
        &repo,
        "src/inner/AGENTS.md",
        "Inner rule: say INNER-RULE-9.\n",
    );
    write(&repo, "src/inner/mod.rs", "pub fn inner() {}\n");

    let server = ModelServer::start(vec![
        Turn::text(&["It defines `inner`."]).openai(),
        Turn::text(&["It greets."]).openai(),
    ]);
    let run = ask(
        &env,
        &repo,
        &server,
        &["What does src/inner/mod.rs define?"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let run = ask(&env, &repo, &server, &["What does greet do?"]);
    assert_eq!(run.code, 0, "{}", run.both());

    let received = server.received();
    let about_inner = received[0].body.to_string();
    assert!(about_inner.contains("INNER-RULE-9"), "{about_inner}");
    assert!(
        about_inner.contains("`src/inner/AGENTS.md` (the nearest to the file you work on)"),
        "{about_inner}"
    );
    assert!(!about_inner.contains("ROOT-RULE-7"), "{about_inner}");
    let about_greet = received[1].body.to_string();
    assert!(
        about_greet.contains("The repository's AGENTS.md"),
        "{about_greet}"
    );
    assert!(about_greet.contains("ROOT-RULE-7"), "{about_greet}");
    assert!(!about_greet.contains("INNER-RULE-9"), "{about_greet}");
}
