//! `nova push` against a real smart-HTTP git server on 127.0.0.1 (`git http-backend` behind a
//! small HTTP server the test runs), which asks for Basic credentials: the token from the
//! environment is sent, a missing one is reported, and a push that is not a fast-forward is
//! refused and never forced.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::Repository;

use crate::branches::nova_commit;
use crate::common::TestEnv;

const TOKEN: &str = "s3cret-push-token";
const BACKEND: &str = "/usr/lib/git-core/git-http-backend";

fn base64(input: &[u8]) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Serves `root` over smart HTTP on 127.0.0.1, asking for Basic credentials ending in `TOKEN`.
/// Returns the port; the server thread ends with the test process.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = handle(stream, &root);
        }
    });
    port
}

/// One HTTP request from `stream`: its request line, its headers (names lowercased) and its body
/// (by `Content-Length`, or chunked).
#[expect(
    clippy::type_complexity,
    reason = "a test server's three parts of a request"
)]
fn read_request(stream: &TcpStream) -> std::io::Result<(String, Vec<(String, String)>, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(length) = header("content-length") {
        body.resize(length.parse().unwrap_or(0), 0);
        reader.read_exact(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok((request, headers, body))
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test server runs git http-backend"
)]
fn handle(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let (request, headers, body) = read_request(&stream)?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut out = stream;
    let expected = format!("Basic {}", base64(format!("nova:{TOKEN}").as_bytes()));
    let authorized = header("authorization").is_some_and(|value| {
        value == expected
            || value
                == format!(
                    "Basic {}",
                    base64(format!("x-access-token:{TOKEN}").as_bytes())
                )
    });
    if !authorized {
        out.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    let mut parts = request.split_whitespace();
    let method = parts.next().unwrap_or("GET");
    let target = parts.next().unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut child = Command::new(BACKEND)
        .env_clear()
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "nova")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child.stdin.take().expect("stdin").write_all(&body)?;
    let output = child.wait_with_output()?;
    let split = output
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, 4))
        .or_else(|| {
            output
                .stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|at| (at, 2))
        })
        .unwrap_or((0, 0));
    let cgi_headers = String::from_utf8_lossy(&output.stdout[..split.0]).into_owned();
    let content = &output.stdout[split.0 + split.1..];
    let mut status = String::from("200 OK");
    let mut response = String::new();
    for line in cgi_headers.lines() {
        match line.strip_prefix("Status:") {
            Some(value) => status = value.trim().to_owned(),
            None if !line.trim().is_empty() => response.push_str(&format!("{line}\r\n")),
            None => {}
        }
    }
    out.write_all(
        format!(
            "HTTP/1.1 {status}\r\n{response}Content-Length: {}\r\nConnection: close\r\n\r\n",
            content.len()
        )
        .as_bytes(),
    )?;
    out.write_all(content)?;
    Ok(())
}

/// A repository with review branch `nova/improve/one` (one Nova commit) and a bare `origin`
/// served over HTTP at the returned URL.
fn setup(env: &TestEnv) -> Option<(PathBuf, PathBuf)> {
    if !Path::new(BACKEND).exists() {
        crate::common::skip(
            "the whole test",
            &format!("`{BACKEND}` (git's HTTP server) is not installed"),
        );
        return None;
    }
    let repo = env.repo("pusher");
    let git = Repository::open(&repo).expect("open");
    let head = git.head().expect("head").peel_to_commit().expect("c").id();
    let tip = nova_commit(&git, head, "a.txt", true);
    git.reference("refs/heads/nova/improve/one", tip, true, "test")
        .expect("branch");
    let served = env.root().join("served");
    let origin = served.join("origin.git");
    Repository::init_bare(&origin).expect("bare");
    let port = serve(served);
    git.remote("origin", &format!("http://127.0.0.1:{port}/origin.git"))
        .expect("remote");
    Some((repo, origin))
}

#[test]
fn a_review_branch_is_pushed_with_the_token_from_the_environment() {
    let mut env = TestEnv::new();
    let Some((repo, origin)) = setup(&env) else {
        return;
    };
    // Without a token (and no credential helper in this hermetic home), the server's request
    // for credentials is reported.
    let refused = env.nova_in(&repo, ["push", "nova/improve/one"]);
    assert_eq!(refused.code, 1, "{}", refused.both());
    assert!(
        refused.stderr.contains("wants credentials"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(TOKEN));

    env.set_var("NOVA_GIT_TOKEN", TOKEN);
    let pushed = env.nova_in(&repo, ["push", "nova/improve/one"]);
    assert_eq!(pushed.code, 0, "{}", pushed.both());
    assert!(
        pushed.stdout.contains("Pushed nova/improve/one to origin."),
        "{}",
        pushed.stdout
    );
    let tip = Repository::open(&repo)
        .expect("open")
        .revparse_single("nova/improve/one")
        .expect("tip")
        .id();
    let remote_tip = Repository::open(&origin)
        .expect("origin")
        .revparse_single("refs/heads/nova/improve/one")
        .expect("pushed")
        .id();
    assert_eq!(remote_tip, tip);
    let listed = env.nova_in(&repo, ["branches"]);
    assert!(
        listed.stdout.contains("pushed to origin"),
        "{}",
        listed.stdout
    );
    // Pushed: undo refuses.
    let undo = env.nova_in(&repo, ["undo", "nova/improve/one"]);
    assert_eq!(undo.code, 2, "{}", undo.both());
}

#[test]
fn a_push_that_is_not_a_fast_forward_is_refused_not_forced() {
    let mut env = TestEnv::new();
    let Some((repo, origin)) = setup(&env) else {
        return;
    };
    env.set_var("NOVA_GIT_TOKEN", TOKEN);
    // The remote already has a different branch of that name.
    let git = Repository::open(&repo).expect("open");
    let head = git.head().expect("head").peel_to_commit().expect("c").id();
    let other = nova_commit(&git, head, "other.txt", true);
    let bare = Repository::open(&origin).expect("origin");
    // The remote shares the objects (an alternate), so that it can hold a branch of its own.
    bare.odb()
        .expect("odb")
        .add_disk_alternate(&repo.join(".git/objects").to_string_lossy())
        .expect("alternate");
    bare.reference("refs/heads/nova/improve/one", other, true, "test")
        .expect("remote branch");
    let run = env.nova_in(&repo, ["push", "nova/improve/one"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert!(run.stderr.contains("never forces"), "{}", run.stderr);
    assert_eq!(
        bare.revparse_single("refs/heads/nova/improve/one")
            .expect("kept")
            .id(),
        other
    );
}

#[test]
fn without_a_token_the_credential_helper_answers() {
    let env = TestEnv::new();
    let Some((repo, origin)) = setup(&env) else {
        return;
    };
    let mut config = Repository::open(&repo)
        .expect("open")
        .config()
        .expect("config");
    config
        .set_str(
            "credential.helper",
            &format!("!f() {{ echo username=nova; echo password={TOKEN}; }}; f"),
        )
        .expect("helper");
    let pushed = env.nova_in(&repo, ["push"]);
    assert_eq!(pushed.code, 0, "{}", pushed.both());
    assert!(
        Repository::open(&origin)
            .expect("origin")
            .revparse_single("refs/heads/nova/improve/one")
            .is_ok()
    );
}
