//! Human-readable printing of IR expressions and jets for `pdec explain`.
