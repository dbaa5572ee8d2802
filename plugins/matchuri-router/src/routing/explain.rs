//! The optional explanation sink. With no sink, [`note!`] evaluates nothing and formats nothing.

use std::fmt;

/// Where explanation lines go, if anywhere.
pub(crate) struct Explain<'a> {
    out: Option<&'a mut Vec<String>>,
}

impl<'a> Explain<'a> {
    pub(crate) fn new(out: Option<&'a mut Vec<String>>) -> Self {
        Explain { out }
    }

    /// True when lines are being collected.
    #[inline]
    pub(crate) fn on(&self) -> bool {
        self.out.is_some()
    }

    /// Append one line (call through [`note!`], which checks [`Explain::on`] first).
    pub(crate) fn line(&mut self, args: fmt::Arguments<'_>) {
        if let Some(out) = self.out.as_deref_mut() {
            out.push(fmt::format(args));
        }
    }
}

/// `note!(ex, "format", args…)`: append a line when an explanation is wanted. The arguments are
/// not evaluated otherwise.
macro_rules! note {
    ($ex:expr, $($arg:tt)*) => {
        if $ex.on() {
            $ex.line(format_args!($($arg)*));
        }
    };
}

pub(crate) use note;
