//! Nova's integration tests: one binary, a hermetic environment per test (see `common`).

mod act;
mod act_limits;
mod act_routing;
mod agents;
mod apply;
mod ask;
mod boundaries;
mod branches;
mod cli;
mod common;
mod config;
mod crash;
mod edits;
mod git_scenarios;
mod golden;
mod improve;
mod index;
mod init;
mod llm;
mod model_server;
mod push;
mod red_base;
mod review;
mod sandbox;
mod shapes;
mod verdicts;
