//! Arguments converted from Python with an `InvalidInputError` (a `ValueError`) that names
//! the argument, the value given and what it accepts, instead of pyo3's bare
//! `OverflowError: can't convert negative int to unsigned` or
//! `TypeError: Can't extract str to Vec`.
//!
//! A `#[pymethods]` argument declared as [`Arg<T, Spec>`] (e.g. `pr: Option<Arg<u64, Pr>>`)
//! is converted here; an argument taken as a Python object and converted later goes through
//! [`extract`]. Both refuse with [`invalid`], so every refusal reads the same.

use std::marker::PhantomData;

use deploykit_core::Error;
use pyo3::prelude::*;

use crate::convert::type_name;
use crate::errors::to_py_err;

/// What an argument is called and what it accepts, for [`Arg`].
pub trait ArgSpec<T> {
    /// The argument's name in Python (`pr`).
    const NAME: &'static str;
    /// What it accepts, completing "expected ..." (`a pull request number: 1 or more`).
    const EXPECTED: &'static str;
    /// Whether a value of the right type is in range (all are, unless said otherwise).
    fn accepts(_value: &T) -> bool {
        true
    }
}

/// An argument of type `T` described by `S`: refused with [`invalid`] when the Python value
/// does not convert to `T` or `S` does not accept it.
#[derive(Debug, Clone)]
pub struct Arg<T, S>(pub T, PhantomData<S>);

impl<T, S> From<T> for Arg<T, S> {
    /// A default value (`#[pyo3(signature = (weeks = Arg::from(4)))]`).
    fn from(value: T) -> Self {
        Arg(value, PhantomData)
    }
}

impl<T, S> Arg<T, S> {
    /// The converted value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<'a, 'py, T, S> FromPyObject<'a, 'py> for Arg<T, S>
where
    T: FromPyObject<'a, 'py>,
    S: ArgSpec<T>,
{
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.extract::<T>() {
            Ok(value) if S::accepts(&value) => Ok(Arg(value, PhantomData)),
            _ => Err(invalid(&obj, S::NAME, S::EXPECTED)),
        }
    }
}

/// `obj`, given as argument `name`, converted to `T`; refused with [`invalid`] otherwise.
pub fn extract<'a, 'py, T: FromPyObject<'a, 'py>>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
    expected: &str,
) -> Result<T, Error> {
    obj.extract::<T>()
        .map_err(|_| invalid_input(&obj.as_borrowed(), name, expected))
}

/// The longest a refused value is shown in the message.
const SHOWN_CHARS: usize = 60;

/// The `InvalidInputError` for `obj` given as argument `name`: `pr=-1 (int): expected a pull
/// request number: 1 or more`, with the argument in the error's context.
pub fn invalid(obj: &Borrowed<'_, '_, PyAny>, name: &str, expected: &str) -> PyErr {
    to_py_err(invalid_input(obj, name, expected))
}

/// [`invalid`] as the core error, for conversions that go on in a core `Result`.
pub fn invalid_input(obj: &Borrowed<'_, '_, PyAny>, name: &str, expected: &str) -> Error {
    let mut shown = obj
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    if shown.chars().count() > SHOWN_CHARS {
        shown = shown.chars().take(SHOWN_CHARS).collect::<String>() + "...";
    }
    let type_name = type_name(obj, "object");
    Error::invalid_input(format!("{name}={shown} ({type_name}): expected {expected}"))
        .with("argument", name)
}

/// Declares a marker type naming an argument for [`Arg`]: `spec!(Pr: u64, "pr", "...",
/// |n| *n >= 1)`.
macro_rules! spec {
    ($(#[$doc:meta])* $marker:ident: $t:ty, $name:literal, $expected:literal $(, $accepts:expr)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub enum $marker {}

        impl ArgSpec<$t> for $marker {
            const NAME: &'static str = $name;
            const EXPECTED: &'static str = $expected;
            $(
                fn accepts(value: &$t) -> bool {
                    let accepts: fn(&$t) -> bool = $accepts;
                    accepts(value)
                }
            )?
        }
    };
}

spec!(
    /// `pr=`: a pull request number.
    Pr: u64, "pr", "a pull request number: a whole number, 1 or more", |n| *n >= 1
);
spec!(
    /// `number`: a pull request number (the World's `approve_pr`, `merge_pr`).
    PrNumber: u64, "number", "a pull request number: a whole number, 1 or more", |n| *n >= 1
);
spec!(
    /// `newrelic_account_id=`.
    NewRelicAccountId: u64,
    "newrelic_account_id",
    "a New Relic account id: a whole number, 1 or more",
    |n| *n >= 1
);
spec!(
    /// `major`: a release's major number.
    Major: u32, "major", "a release number: a whole number from 0 to 4294967295"
);
spec!(
    /// `times=` of `inject_fault`.
    Times: i64, "times", "how many calls fail: a whole number, 1 or more"
);
spec!(
    /// `weeks=` of `deploy_days_from`.
    Weeks: i64, "weeks", "a number of weeks: a whole number from 1 to 53"
);
spec!(
    /// `last=` of `run_list`.
    Last: i64, "last", "how many of the newest runs to list: a whole number, 0 or more"
);
spec!(
    /// `seconds` of `advance` and `wait`.
    Seconds: f64, "seconds", "a number of seconds (int or float)"
);
spec!(
    /// `timeout=` of `migration_log`.
    Timeout: f64, "timeout", "a number of seconds (int or float), or None"
);
spec!(
    /// `deploy_status_urls=` of `Backends`.
    DeployStatusUrls: std::collections::BTreeMap<String, String>,
    "deploy_status_urls",
    "a dict of environment name to URL (str to str)"
);
spec!(
    /// `environ=` of `Backends.from_config`.
    Environ: std::collections::BTreeMap<String, String>,
    "environ",
    "a dict of environment variable name to value (str to str)"
);
spec!(
    /// `overrides=` of `Backends`.
    Overrides: std::collections::BTreeMap<String, String>,
    "overrides",
    "a dict of configuration key to value (str to str), as --set KEY=VALUE"
);
