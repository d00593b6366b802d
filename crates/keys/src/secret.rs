use std::fmt;

use zeroize::Zeroizing;

/// A password or PIN. Zeroized on drop; `Debug` prints nothing of it; not `Clone`.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of the string (whose buffer is zeroized when the secret drops).
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret's text, for the one place that has to use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("Qwerty12".into());
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "Qwerty12");
    }
}
