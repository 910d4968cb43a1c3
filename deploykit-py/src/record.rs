//! `record_class!`: a frozen Python class around a serializable core value, with the getters
//! given, `to_dict()`, `to_json()` and a `__repr__`.

/// Declares `pub struct $name(pub $inner)` as the Python class `$pyname` with the methods
/// given (usually `#[getter]`s) plus `to_dict`, `to_json` and `__repr__` (`|r| expr`, where
/// `r: &$inner`).
macro_rules! record_class {
    (
        $(#[$doc:meta])*
        $name:ident($inner:ty) as $pyname:literal,
        repr = |$r:ident| $repr:expr,
        { $($methods:tt)* }
    ) => {
        $(#[$doc])*
        #[pyo3::pyclass(module = "deploykit", name = $pyname, frozen)]
        #[derive(Debug, Clone)]
        pub struct $name(pub $inner);

        #[pyo3::pymethods]
        impl $name {
            $($methods)*

            /// The fields as plain data (dates as ISO 8601 strings).
            fn to_dict<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                $crate::convert::to_py(py, &self.0)
            }

            /// The fields as a JSON string.
            fn to_json(&self) -> pyo3::PyResult<String> {
                $crate::convert::to_json(&self.0)
            }

            fn __repr__(&self) -> String {
                let $r: &$inner = &self.0;
                $repr
            }
        }
    };
}

pub(crate) use record_class;
