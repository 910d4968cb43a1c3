//! A Python object with `decide(request: dict)` (or a plain callable) as the deploy's
//! [`Operator`]: asked when a gate cannot decide.

use std::sync::Arc;

use async_trait::async_trait;
use deploykit_core::deploy::{Decision, DecisionRequest, Operator};
use deploykit_core::{Error, Result};
use pyo3::prelude::*;

use crate::call::PyCall;
use crate::callbacks::{not_awaitable, refuse_async};
use crate::convert;
use crate::errors::{from_py_err, to_py_err};

/// Calls `obj.decide(request_dict)` (or `obj(request_dict)`), which answers `"go"`,
/// `"rollback"`, or `None` for "not now" (the run pauses; `resume` asks again). The dict has
/// `gate`, `explanation`, `criteria` (the guide's rollback questions), `windows` and `checks`.
/// `gate` is `"monitor"` for an inconclusive verdict, or `"smoke_tests"` when asking whether
/// the checks in `checks` passed in production (`"go"`: they did, the release is created;
/// `"rollback"`: they did not).
#[derive(Debug, Clone)]
pub struct PyOperator {
    obj: Arc<Py<PyAny>>,
}

impl PyOperator {
    /// Wraps `obj`, checking that it can be asked.
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !obj.hasattr("decide")? && !obj.is_callable() {
            return Err(to_py_err(Error::invalid_input(format!(
                "{} cannot decide: give an object with decide(request) or a callable",
                obj.repr()?
            ))));
        }
        if obj.hasattr("decide")? {
            refuse_async(&obj.getattr("decide")?, "decide", "the operator's decide()")?;
        } else {
            refuse_async(obj, "decide", &format!("decide={}", obj.repr()?))?;
        }
        Ok(PyOperator {
            obj: Arc::new(obj.clone().unbind()),
        })
    }
}

fn parse_decision(answer: &Bound<'_, PyAny>) -> Result<Option<Decision>> {
    if answer.is_none() {
        return Ok(None);
    }
    match answer.extract::<String>().as_deref() {
        Ok("go") => Ok(Some(Decision::Go)),
        Ok("rollback") => Ok(Some(Decision::Rollback)),
        _ => Err(Error::invalid_input(format!(
            "the Python operator answered {answer}: expected \"go\", \"rollback\" or None"
        ))),
    }
}

#[async_trait]
impl Operator for PyOperator {
    async fn decide(&self, request: &DecisionRequest) -> Result<Option<Decision>> {
        let obj = Arc::clone(&self.obj);
        let request = request.clone();
        let call = PyCall::current();
        tokio::task::spawn_blocking(move || {
            call.attach_port("the Python operator's decide()", |py| {
                let dict = convert::to_py(py, &request)
                    .map_err(|e| from_py_err(py, &e, "building the decision request"))?;
                let target = obj.bind(py);
                let answer = if target.hasattr("decide").unwrap_or(false) {
                    target.call_method1("decide", (dict,))
                } else {
                    target.call1((dict,))
                }
                .map_err(|e| from_py_err(py, &e, "the Python operator's decide()"))?;
                parse_decision(&not_awaitable(
                    answer,
                    "decide",
                    "the Python operator's decide()",
                )?)
            })
        })
        .await
        .map_err(|e| Error::backend(format!("the Python operator's thread failed: {e}")))?
    }
}
