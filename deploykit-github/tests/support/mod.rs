//! Test support: real git repositories and local HTTP fakes.

#![allow(dead_code)]

pub mod git_daemon;
pub mod git_http;
pub mod git_world;
pub mod github_fake;
pub mod http_fake;
