//! The forge a review branch is proposed on: GitHub's REST API, to open a pull request for a
//! pushed branch or update the one already open for it (never a second one).

use serde::Deserialize;
use serde_json::{Value, json};

/// Why the forge did not take the pull request.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error(
        "cannot tell which GitHub repository this is: set `GITHUB_REPOSITORY` to `owner/name` \
         (GitHub Actions sets it), or give the remote a github.com URL"
    )]
    NoRepository,
    #[error("GitHub could not be reached at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("GitHub refused {what} ({status}): {message}")]
    Api {
        what: String,
        status: u16,
        message: String,
    },
    #[error("GitHub answered {what} with something that is not a pull request: {reason}")]
    Answer { what: String, reason: String },
}

/// A pull request as the forge knows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    /// Its page, for people.
    pub html_url: String,
}

/// What happened to the pull request of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposed {
    Opened(PullRequest),
    Updated(PullRequest),
}

impl Proposed {
    pub fn pull_request(&self) -> &PullRequest {
        match self {
            Proposed::Opened(pr) | Proposed::Updated(pr) => pr,
        }
    }
}

/// GitHub's REST API for one repository.
#[derive(Debug)]
pub struct GitHub {
    client: reqwest::Client,
    api: String,
    /// `owner/name`.
    repository: String,
    token: String,
}

impl GitHub {
    /// A client for `repository` (`owner/name`) at `api` (`https://api.github.com`), with `token`.
    pub fn new(api: &str, repository: &str, token: &str) -> Result<GitHub, ForgeError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("nova/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .build()
            .map_err(|error| ForgeError::Unreachable {
                url: api.to_owned(),
                reason: error.to_string(),
            })?;
        Ok(GitHub {
            client,
            api: api.trim_end_matches('/').to_owned(),
            repository: repository.to_owned(),
            token: token.to_owned(),
        })
    }

    /// Opens a pull request of `head` into `base`, or, when one is open for `head` already,
    /// updates its title and body.
    pub async fn propose(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<Proposed, ForgeError> {
        let owner = self.repository.split('/').next().unwrap_or_default();
        let pulls = format!("{}/repos/{}/pulls", self.api, self.repository);
        let listing = reqwest::Url::parse_with_params(
            &pulls,
            [("state", "open"), ("head", &format!("{owner}:{head}"))],
        )
        .map_err(|error| ForgeError::Unreachable {
            url: pulls.clone(),
            reason: error.to_string(),
        })?;
        let open = self
            .send(
                "the list of open pull requests",
                self.client.get(listing),
                None,
            )
            .await?;
        let open: Vec<PullRequest> =
            serde_json::from_value(open).map_err(|error| ForgeError::Answer {
                what: String::from("the list of open pull requests"),
                reason: error.to_string(),
            })?;
        if let Some(existing) = open.first() {
            let what = format!("the update of pull request #{}", existing.number);
            let answer = self
                .send(
                    &what,
                    self.client.patch(format!("{pulls}/{}", existing.number)),
                    Some(json!({ "title": title, "body": body })),
                )
                .await?;
            return pull_request(&what, answer).map(Proposed::Updated);
        }
        let what = format!("a pull request of `{head}` into `{base}`");
        let answer = self
            .send(
                &what,
                self.client.post(&pulls),
                Some(json!({
                    "title": title,
                    "head": head,
                    "base": base,
                    "body": body,
                    "maintainer_can_modify": true,
                })),
            )
            .await?;
        pull_request(&what, answer).map(Proposed::Opened)
    }

    /// Sends one request with the API's headers; a status other than 2xx is an error carrying
    /// the API's own message.
    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
        body: Option<Value>,
    ) -> Result<Value, ForgeError> {
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(body.to_string()),
            None => request,
        };
        let response = request
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await
            .map_err(|error| ForgeError::Unreachable {
                url: self.api.clone(),
                reason: error.to_string(),
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(ForgeError::Api {
                what: what.to_owned(),
                status: status.as_u16(),
                message: api_message(&value).unwrap_or(text),
            });
        }
        Ok(value)
    }
}

fn pull_request(what: &str, answer: Value) -> Result<PullRequest, ForgeError> {
    serde_json::from_value(answer).map_err(|error| ForgeError::Answer {
        what: what.to_owned(),
        reason: error.to_string(),
    })
}

/// GitHub's error message and the messages of its `errors` list: `Validation Failed: A pull
/// request already exists for octo:main.`
fn api_message(value: &Value) -> Option<String> {
    let message = value.get("message")?.as_str()?.to_owned();
    let details: Vec<&str> = value
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|error| error.get("message").and_then(Value::as_str))
        .collect();
    Some(if details.is_empty() {
        message
    } else {
        format!("{message}: {}", details.join("; "))
    })
}

/// `owner/name` of a GitHub remote URL: `https://github.com/o/n.git`, `git@github.com:o/n.git`,
/// `ssh://git@github.com/o/n`.
pub fn repository_of(url: &str) -> Option<String> {
    let (_, path) = url
        .split_once("github.com/")
        .or_else(|| url.split_once("github.com:"))?;
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let mut parts = path.split('/');
    let (owner, name) = (parts.next()?, parts.next()?);
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (plain(owner) && plain(name) && parts.next().is_none()).then(|| format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_url_names_its_repository() {
        for url in [
            "https://github.com/octo/hello.git",
            "https://x-access-token:t@github.com/octo/hello",
            "git@github.com:octo/hello.git",
            "ssh://git@github.com/octo/hello/",
        ] {
            assert_eq!(repository_of(url).as_deref(), Some("octo/hello"), "{url}");
        }
        for url in [
            "https://gitlab.com/octo/hello.git",
            "https://github.com/octo",
            "/srv/git/hello.git",
        ] {
            assert_eq!(repository_of(url), None, "{url}");
        }
    }

    #[test]
    fn the_apis_message_carries_its_details() {
        let value = json!({
            "message": "Validation Failed",
            "errors": [{ "message": "No commits between main and nova/x" }]
        });
        assert_eq!(
            api_message(&value).as_deref(),
            Some("Validation Failed: No commits between main and nova/x")
        );
        assert_eq!(
            api_message(&json!({ "message": "Bad credentials" })).as_deref(),
            Some("Bad credentials")
        );
        assert_eq!(api_message(&Value::Null), None);
    }
}
