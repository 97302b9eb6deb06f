//! What a request cost, from the price table in the configuration.

use serde::Serialize;

use super::chat::Usage;

/// A model's prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    /// Cached prompt tokens; the input price when the table has none.
    pub cached_input: Option<f64>,
}

impl Prices {
    /// The cost of `usage` in US dollars.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_tokens.min(usage.prompt_tokens);
        let fresh = usage.prompt_tokens - cached;
        let per = |tokens: u64, price: f64| tokens as f64 * price / 1_000_000.0;
        per(fresh, self.input)
            + per(cached, self.cached_input.unwrap_or(self.input))
            + per(usage.completion_tokens, self.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_tokens_are_billed_at_their_price() {
        let prices = Prices {
            input: 2.0,
            output: 8.0,
            cached_input: Some(0.5),
        };
        let usage = Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 500_000,
            cached_tokens: 400_000,
            counted: false,
        };
        let cost = prices.cost(&usage);
        assert!((cost - (1.2 + 0.2 + 4.0)).abs() < 1e-9, "{cost}");
    }
}
