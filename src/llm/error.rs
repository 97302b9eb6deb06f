//! Why a model request failed, worded for the person who has to do something about it.

/// A failed model request. [`LlmError::is_configuration`] separates the user's mistakes (exit
/// code 2) from the provider's refusals and the network's failures (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(
        "`{var}` is not set: the {provider} provider needs an API key. Export it \
         (`export {var}=...`), or name the variable that holds it with `--api-key-env`"
    )]
    MissingKey { provider: &'static str, var: String },
    #[error(
        "no model is set for the {provider} provider: pass `--model NAME`, set `NOVA_MODEL`, or \
         set `model` under `[provider]` in your config"
    )]
    NoModel { provider: &'static str },
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    #[error("cannot reach {url}: {reason}. {hint}")]
    Unreachable {
        url: String,
        reason: String,
        hint: String,
    },
    #[error("the provider refused the request (HTTP {status}): {message}. {hint}")]
    Rejected {
        status: u16,
        message: String,
        hint: &'static str,
    },
    #[error(
        "the prompt is longer than the model's context window: {message}. Set the model's \
         `context_window` under `[models.\"NAME\"]` so that Nova can check before sending"
    )]
    ContextLength { message: String },
    #[error(
        "the prompt needs about {estimate} tokens and the reply up to {reserved}, but `{model}` \
         has a context window of {window}; nothing was sent. Ask about less, or raise \
         `context_window` if the model really has more"
    )]
    TooLarge {
        model: String,
        estimate: u64,
        reserved: u64,
        window: u64,
    },
    #[error("gave up after {attempts} attempt(s) in {seconds:.1} s; the last one failed: {last}")]
    GaveUp {
        attempts: u32,
        seconds: f64,
        last: String,
    },
    #[error("replay: {0}")]
    Replay(String),
    #[error("record: {0}")]
    Record(String),
}

impl LlmError {
    /// A mistake in the configuration or the command line, not in the provider or the network.
    pub fn is_configuration(&self) -> bool {
        matches!(self, LlmError::MissingKey { .. } | LlmError::NoModel { .. })
    }
}
