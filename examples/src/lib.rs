//! Small programs that embed deploykit: see `examples/` (run with
//! `cargo run -p deploykit-examples --example recycle_and_scale_in`) and the downstream-style
//! tests in `tests/`.
