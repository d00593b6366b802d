//! Windows MY (written next).
