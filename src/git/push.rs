//! Pushing a review branch, for CI: never forced, a rejection reported as such. Credentials come,
//! in order, from a token the caller read from the environment, git's credential helpers, and
//! the ssh agent.

use std::path::Path;

use git2::{Cred, CredentialType, PushOptions, RemoteCallbacks, Repository};

/// Why a push did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("there is no review branch `{0}`; `nova branches` lists them")]
    NoBranch(String),
    #[error("there is no remote `{0}`; add one with `git remote add {0} URL`")]
    NoRemote(String),
    #[error(
        "`{remote}` refused `{branch}`: {reason}. Nova never forces a push; fetch and look at \
         what is there, or push under another name with `nova push BRANCH`"
    )]
    Rejected {
        branch: String,
        remote: String,
        reason: String,
    },
    #[error(
        "`{remote}` wants credentials Nova could not find: set a token in `NOVA_GIT_TOKEN` (or \
         `GITHUB_TOKEN`), configure a git credential helper, or load a key into the ssh agent \
         ({source})"
    )]
    Auth {
        remote: String,
        #[source]
        source: git2::Error,
    },
    #[error("pushing `{branch}` to `{remote}` failed: {source}")]
    Git {
        branch: String,
        remote: String,
        #[source]
        source: git2::Error,
    },
}

/// Pushes `branch` to the branch of the same name on `remote`. `token`, when given, answers an
/// HTTP(S) server's request for credentials.
pub fn push(root: &Path, branch: &str, remote: &str, token: Option<&str>) -> Result<(), PushError> {
    let git_error = |source| PushError::Git {
        branch: branch.to_owned(),
        remote: remote.to_owned(),
        source,
    };
    let repo = Repository::open(root).map_err(git_error)?;
    if repo.find_branch(branch, git2::BranchType::Local).is_err() {
        return Err(PushError::NoBranch(branch.to_owned()));
    }
    let mut handle = repo
        .find_remote(remote)
        .map_err(|_| PushError::NoRemote(remote.to_owned()))?;
    let config = repo.config().map_err(git_error)?;

    let mut rejection: Option<String> = None;
    let mut tried = Tried::default();
    {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(|url, username, allowed| {
            credentials(&config, url, username, allowed, token, &mut tried)
        });
        callbacks.push_update_reference(|_, status| {
            if let Some(reason) = status {
                rejection = Some(reason.to_owned());
            }
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        // No `+`: a push that is not a fast-forward is refused by the remote, never forced.
        let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
        if let Err(source) = handle.push(&[refspec.as_str()], Some(&mut options)) {
            return Err(match source.code() {
                git2::ErrorCode::Auth => PushError::Auth {
                    remote: remote.to_owned(),
                    source,
                },
                git2::ErrorCode::NotFastForward => PushError::Rejected {
                    branch: branch.to_owned(),
                    remote: remote.to_owned(),
                    reason: String::from("it is not a fast-forward"),
                },
                _ if source.class() == git2::ErrorClass::Http
                    && source.message().contains("401") =>
                {
                    PushError::Auth {
                        remote: remote.to_owned(),
                        source,
                    }
                }
                _ => git_error(source),
            });
        }
    }
    if let Some(reason) = rejection {
        return Err(PushError::Rejected {
            branch: branch.to_owned(),
            remote: remote.to_owned(),
            reason,
        });
    }
    Ok(())
}

/// Which sources of credentials were offered already: each is tried once, so that a wrong one
/// ends the push instead of looping.
#[derive(Default)]
struct Tried {
    token: bool,
    helper: bool,
    agent: bool,
}

fn credentials(
    config: &git2::Config,
    url: &str,
    username: Option<&str>,
    allowed: CredentialType,
    token: Option<&str>,
    tried: &mut Tried,
) -> Result<Cred, git2::Error> {
    if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
        if let Some(token) = token
            && !tried.token
        {
            tried.token = true;
            return Cred::userpass_plaintext(username.unwrap_or("x-access-token"), token);
        }
        if !tried.helper {
            tried.helper = true;
            if let Ok(cred) = Cred::credential_helper(config, url, username) {
                return Ok(cred);
            }
        }
    }
    if allowed.contains(CredentialType::SSH_KEY) && !tried.agent {
        tried.agent = true;
        return Cred::ssh_key_from_agent(username.unwrap_or("git"));
    }
    if allowed.contains(CredentialType::USERNAME) {
        return Cred::username(username.unwrap_or("git"));
    }
    Err(git2::Error::new(
        git2::ErrorCode::Auth,
        git2::ErrorClass::Net,
        "no credentials left to try",
    ))
}

/// The URL of `remote` in the repository at `root`, as configured.
pub fn remote_url(root: &Path, remote: &str) -> Option<String> {
    let repo = Repository::open(root).ok()?;
    let remote = repo.find_remote(remote).ok()?;
    remote.url().ok().map(str::to_owned)
}

/// The branch the checkout at `root` is on (`main`), not when `HEAD` is detached.
pub fn checked_out_branch(root: &Path) -> Option<String> {
    let repo = Repository::open(root).ok()?;
    let head = repo.head().ok()?;
    if !head.is_branch() {
        return None;
    }
    head.shorthand().ok().map(str::to_owned)
}
